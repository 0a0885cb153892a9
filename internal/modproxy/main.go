// Command modproxy writes a Go module proxy on disk, in the layout that
// GOPROXY=file://DIR reads, serving every module of a git working tree at
// one version: the root module and each nested one (a directory with a
// go.mod, outside testdata and vendor). Each module gets DIR/<escaped
// path>/@v/list, VERSION.info, VERSION.mod (its go.mod as it is) and
// VERSION.zip, written by golang.org/x/mod/zip with the checks the go
// command applies to a module it downloads.
//
// A zip holds the files git would commit from the working tree: tracked
// files and untracked ones that .gitignore does not exclude, as they are
// on disk (uncommitted edits included), less the files of nested modules.
// `make consumer` installs from it as a user installs a release.
//
// Usage:
//
//	go run ./internal/modproxy -version v1.0.0-rc.1 -o DIR [-root DIR]
//
// It prints the path of each module it wrote, the root first.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	version := flag.String("version", "", "the version to serve every module at (required), e.g. v1.0.0-rc.1")
	out := flag.String("o", "", "the proxy directory to write (required)")
	root := flag.String("root", ".", "the root of the git working tree")
	flag.Parse()
	if *version == "" || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: modproxy -version VERSION -o DIR [-root DIR]")
		os.Exit(2)
	}
	mods, err := write(*root, *out, *version, time.Now().UTC().Truncate(time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
	for _, m := range mods {
		fmt.Println(m.Path)
	}
}

// A moduleDir is a module of the tree: its path and its directory,
// slash-separated and relative to the root ("." for the root).
type moduleDir struct {
	path string
	dir  string
}

// write serves every module under root at version in the proxy directory
// out, and returns them, the root first.
func write(root, out, version string, t time.Time) ([]module.Version, error) {
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return nil, fmt.Errorf("version %q is not a canonical semantic version (vMAJOR.MINOR.PATCH[-PRE])", version)
	}
	files, err := gitFiles(root)
	if err != nil {
		return nil, err
	}
	mods, err := findModules(root, files)
	if err != nil {
		return nil, err
	}
	var written []module.Version
	for _, m := range mods {
		if m.dir == "." || !excluded(m.dir) {
			mv := module.Version{Path: m.path, Version: version}
			if err := module.Check(mv.Path, mv.Version); err != nil {
				return nil, err
			}
			if err := writeModule(out, mv, root, m.dir, ownFiles(m.dir, mods, files), t); err != nil {
				return nil, fmt.Errorf("%s: %w", mv, err)
			}
			written = append(written, mv)
		}
	}
	return written, nil
}

// gitFiles lists the regular files of the working tree that git would
// commit: tracked ones still on disk, and untracked ones not ignored.
func gitFiles(root string) ([]string, error) {
	cmd := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files in %s: %v: %s", root, err, strings.TrimSpace(stderr.String()))
	}
	var files []string
	seen := map[string]bool{}
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" || seen[f] {
			continue // --cached and --others can both list a file
		}
		seen[f] = true
		if fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(f))); err == nil && fi.Mode().IsRegular() {
			files = append(files, f)
		}
	}
	return files, nil
}

// findModules returns the modules of the tree, the root first, from the
// go.mod files among files. Modules under testdata or vendor are listed
// too, so that their files stay out of the module that holds them (the
// go command leaves any directory with a go.mod out of a module), but
// write does not serve them.
func findModules(root string, files []string) ([]moduleDir, error) {
	var mods []moduleDir
	for _, f := range files {
		if path.Base(f) != "go.mod" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		p := modfile.ModulePath(data)
		if p == "" {
			return nil, fmt.Errorf("%s: no module line", f)
		}
		mods = append(mods, moduleDir{path: p, dir: path.Dir(f)})
	}
	// The root (".") sorts first; a parent before its children.
	slices.SortFunc(mods, func(a, b moduleDir) int {
		if a.dir == "." || b.dir == "." {
			return strings.Compare(strings.TrimPrefix(a.dir, "."), strings.TrimPrefix(b.dir, "."))
		}
		return strings.Compare(a.dir, b.dir)
	})
	if len(mods) == 0 || mods[0].dir != "." {
		return nil, errors.New("no go.mod at the root of the tree")
	}
	return mods, nil
}

// excluded reports whether a module directory is one the go command never
// treats as a module of its own to publish: under testdata or vendor.
func excluded(dir string) bool {
	return slices.ContainsFunc(strings.Split(dir, "/"), func(e string) bool { return e == "testdata" || e == "vendor" })
}

// ownFiles returns the files of the module in dir: those under it and in
// no module nested below it. Paths stay relative to the tree's root.
func ownFiles(dir string, mods []moduleDir, files []string) []string {
	within := func(f, d string) bool { return d == "." || strings.HasPrefix(f, d+"/") }
	var own []string
	for _, f := range files {
		if !within(f, dir) {
			continue
		}
		nested := slices.ContainsFunc(mods, func(m moduleDir) bool {
			return m.dir != dir && m.dir != "." && within(m.dir, dir) && within(f, m.dir)
		})
		if !nested {
			own = append(own, f)
		}
	}
	return own
}

// writeModule writes one module version's list line, .info, .mod and .zip.
func writeModule(out string, mv module.Version, root, dir string, files []string, t time.Time) error {
	esc, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(out, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	zfiles := make([]modzip.File, len(files))
	for i, f := range files {
		rel := f
		if dir != "." {
			rel = strings.TrimPrefix(f, dir+"/")
		}
		zfiles[i] = diskFile{disk: filepath.Join(root, filepath.FromSlash(f)), rel: rel}
	}
	if err := writeZip(filepath.Join(vdir, mv.Version+".zip"), mv, zfiles); err != nil {
		return err
	}
	gomod, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(dir), "go.mod"))
	if err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{mv.Version, t})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(vdir, mv.Version+".mod"), gomod, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(vdir, mv.Version+".info"), info, 0o644); err != nil {
		return err
	}
	return addToList(filepath.Join(vdir, "list"), mv.Version)
}

// writeZip writes the module zip; modzip.Create applies the go command's
// checks (paths, sizes, case collisions) and fails on a file it rejects.
func writeZip(name string, mv module.Version, files []modzip.File) (err error) {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return modzip.Create(f, mv, files)
}

// addToList adds version to a proxy's list file, once.
func addToList(name, version string) error {
	data, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(data))
	if slices.Contains(versions, version) {
		return nil
	}
	versions = append(versions, version)
	semver.Sort(versions)
	return os.WriteFile(name, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

// diskFile is a file of a module zip, read from disk.
type diskFile struct{ disk, rel string }

func (f diskFile) Path() string                 { return f.rel }
func (f diskFile) Lstat() (os.FileInfo, error)  { return os.Lstat(f.disk) }
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(f.disk) }
