//go:build !anyspec

package main

import (
	"archive/zip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tree writes files (slash paths to contents) into a new git repository
// and returns its directory; only the paths in tracked are added to git.
func tree(t *testing.T, files map[string]string, tracked ...string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("init", "-q")
	if len(tracked) > 0 {
		git(append([]string{"add", "--"}, tracked...)...)
	}
	return dir
}

// zipNames lists the entries of a module zip.
func zipNames(t *testing.T, name string) []string {
	t.Helper()
	r, err := zip.OpenReader(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	for _, f := range r.File {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return names
}

var sample = map[string]string{
	"go.mod":                  "module example.com/m\n\ngo 1.22\n",
	"m.go":                    "package m\n",
	"sub/s.go":                "package sub\n",
	"new.go":                  "package m\n\n// untracked, not ignored\n",
	".gitignore":              "*.out\n",
	"trace.out":               "ignored\n",
	"nested/go.mod":           "module example.com/m/nested\n\ngo 1.22\n\nrequire example.com/m v1.2.3-rc.1\n",
	"nested/n.go":             "package nested\n",
	"testdata/mod/go.mod":     "module example.com/fixture\n\ngo 1.22\n",
	"testdata/mod/fixture.go": "package fixture\n",
	"testdata/plain.txt":      "data\n",
}

func TestWriteServesEachModuleWithItsOwnFiles(t *testing.T) {
	root := tree(t, sample, "go.mod", "m.go", "sub/s.go", ".gitignore", "nested", "testdata")
	out := t.TempDir()
	at := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	mods, err := write(root, out, "v1.2.3-rc.1", at)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, m := range mods {
		paths = append(paths, m.Path+"@"+m.Version)
	}
	if want := []string{"example.com/m@v1.2.3-rc.1", "example.com/m/nested@v1.2.3-rc.1"}; !slices.Equal(paths, want) {
		t.Fatalf("modules = %q, want %q (the root first; none from testdata)", paths, want)
	}

	for _, tc := range []struct {
		path, dir string
		zip       []string
	}{
		{"example.com/m", ".", []string{
			// The untracked new.go is in; trace.out (ignored) and the
			// files of both nested modules are out; testdata's plain
			// file is in.
			".gitignore", "go.mod", "m.go", "new.go", "sub/s.go", "testdata/plain.txt",
		}},
		{"example.com/m/nested", "nested", []string{"go.mod", "n.go"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			vdir := filepath.Join(out, filepath.FromSlash(tc.path), "@v")
			list, err := os.ReadFile(filepath.Join(vdir, "list"))
			if err != nil || string(list) != "v1.2.3-rc.1\n" {
				t.Errorf("list = %q, %v; want the version", list, err)
			}
			var info struct {
				Version string
				Time    time.Time
			}
			data, err := os.ReadFile(filepath.Join(vdir, "v1.2.3-rc.1.info"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &info); err != nil || info.Version != "v1.2.3-rc.1" || !info.Time.Equal(at) {
				t.Errorf(".info = %s (%v), want the version and time", data, err)
			}
			gomod, err := os.ReadFile(filepath.Join(vdir, "v1.2.3-rc.1.mod"))
			if err != nil || string(gomod) != sample[filepath.ToSlash(filepath.Join(tc.dir, "go.mod"))] {
				t.Errorf(".mod = %q, %v; want the module's go.mod as it is", gomod, err)
			}
			var want []string
			for _, f := range tc.zip {
				want = append(want, tc.path+"@v1.2.3-rc.1/"+f)
			}
			if got := zipNames(t, filepath.Join(vdir, "v1.2.3-rc.1.zip")); !slices.Equal(got, want) {
				t.Errorf("zip holds\n%q\nwant\n%q", got, want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(out, "example.com", "fixture")); !os.IsNotExist(err) {
		t.Errorf("the module under testdata was served (stat: %v)", err)
	}
}

func TestWriteAddsToAnExistingList(t *testing.T) {
	root := tree(t, map[string]string{"go.mod": "module example.com/m\n", "m.go": "package m\n"}, "go.mod", "m.go")
	out := t.TempDir()
	for _, v := range []string{"v1.1.0", "v1.0.0", "v1.1.0"} {
		if _, err := write(root, out, v, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	list, err := os.ReadFile(filepath.Join(out, "example.com", "m", "@v", "list"))
	if err != nil || string(list) != "v1.0.0\nv1.1.0\n" {
		t.Errorf("list = %q, %v; want each version once, in order", list, err)
	}
}

func TestWriteRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		version string
		want    string
	}{
		{"not canonical", map[string]string{"go.mod": "module example.com/m\n"}, "v1.0", "canonical"},
		{"no v", map[string]string{"go.mod": "module example.com/m\n"}, "1.0.0", "canonical"},
		{"major without suffix", map[string]string{"go.mod": "module example.com/m\n"}, "v2.0.0", "v2"},
		{"no root module", map[string]string{"sub/go.mod": "module example.com/sub\n"}, "v1.0.0", "no go.mod at the root"},
		{"no module line", map[string]string{"go.mod": "go 1.22\n"}, "v1.0.0", "no module line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tracked []string
			for f := range tc.files {
				tracked = append(tracked, f)
			}
			out := t.TempDir()
			_, err := write(tree(t, tc.files, tracked...), out, tc.version, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one that says %q", err, tc.want)
			}
		})
	}
}

func TestWriteFailsOutsideGit(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	if _, err := write(dir, t.TempDir(), "v1.0.0", time.Now()); err == nil || !strings.Contains(err.Error(), "git ls-files") {
		t.Fatalf("err = %v, want git's failure", err)
	}
}

// The go command itself downloads both modules from the written proxy and
// verifies their zips: the layout is the one GOPROXY=file:// reads.
func TestGoDownloadsFromTheProxy(t *testing.T) {
	root := tree(t, sample, "go.mod", "m.go", "sub/s.go", ".gitignore", "nested", "testdata")
	out := t.TempDir()
	if _, err := write(root, out, "v1.2.3-rc.1", time.Now()); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "mod", "download", "-json", "example.com/m@v1.2.3-rc.1", "example.com/m/nested@v1.2.3-rc.1")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		"GOPROXY=file://"+filepath.ToSlash(out), "GONOSUMDB=example.com", "GOFLAGS=-modcacherw",
		"GOMODCACHE="+t.TempDir(), "GOWORK=off", "GOTOOLCHAIN=local")
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download: %v\n%s", err, data)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	n := 0
	for dec.More() {
		var m struct{ Path, Version, Dir, Error string }
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m.Error != "" {
			t.Errorf("%s: %s", m.Path, m.Error)
			continue
		}
		want := map[string]string{"example.com/m": "sub/s.go", "example.com/m/nested": "n.go"}[m.Path]
		if _, err := os.Stat(filepath.Join(m.Dir, filepath.FromSlash(want))); err != nil {
			t.Errorf("%s@%s: %v", m.Path, m.Version, err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("go mod download reported %d modules, want 2:\n%s", n, data)
	}
}

// TestWriteKeepsModuleBoundaries pins where one module ends: a sibling
// directory that shares a nested module's name prefix stays in the root;
// modules under vendor or any testdata are not served; the root comes
// first whatever order git lists go.mod files in; a tracked file deleted
// from disk is left out; a module path with capitals is served under its
// case-escaped directory, as the go command asks for it.
func TestWriteKeepsModuleBoundaries(t *testing.T) {
	files := map[string]string{
		"a/go.mod":                    "module example.com/m/a\n\ngo 1.22\n",
		"a/a.go":                      "package a\n",
		"go.mod":                      "module example.com/m\n\ngo 1.22\n",
		"m.go":                        "package m\n",
		"gone.go":                     "package m\n",
		"nested/go.mod":               "module example.com/m/nested\n\ngo 1.22\n",
		"nested/n.go":                 "package nested\n",
		"nestedx/x.go":                "package nestedx\n",
		"Upper/go.mod":                "module example.com/m/Upper\n\ngo 1.22\n",
		"Upper/u.go":                  "package upper\n",
		"vendor/example.com/v/go.mod": "module example.com/vendored\n\ngo 1.22\n",
		"sub/testdata/mod/go.mod":     "module example.com/subfixture\n\ngo 1.22\n",
		"sub/testdata/mod/f.go":       "package fixture\n",
	}
	var tracked []string
	for f := range files {
		tracked = append(tracked, f)
	}
	root := tree(t, files, tracked...)
	if err := os.Remove(filepath.Join(root, "gone.go")); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	mods, err := write(root, out, "v1.0.0", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, m := range mods {
		paths = append(paths, m.Path)
	}
	if want := []string{"example.com/m", "example.com/m/Upper", "example.com/m/a", "example.com/m/nested"}; !slices.Equal(paths, want) {
		t.Fatalf("modules = %q, want %q (the root first; none under vendor or testdata)", paths, want)
	}
	for _, tc := range []struct {
		dir  string // escaped, as the go command asks for it
		path string
		zip  []string
	}{
		{"example.com/m", "example.com/m", []string{"go.mod", "m.go", "nestedx/x.go"}},
		{"example.com/m/!upper", "example.com/m/Upper", []string{"go.mod", "u.go"}},
		{"example.com/m/nested", "example.com/m/nested", []string{"go.mod", "n.go"}},
	} {
		var want []string
		for _, f := range tc.zip {
			want = append(want, tc.path+"@v1.0.0/"+f)
		}
		name := filepath.Join(out, filepath.FromSlash(tc.dir), "@v", "v1.0.0.zip")
		if _, err := os.Stat(name); err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if got := zipNames(t, name); !slices.Equal(got, want) {
			t.Errorf("%s zip holds\n%q\nwant\n%q", tc.path, got, want)
		}
	}
	for _, p := range []string{"example.com/vendored", "example.com/subfixture"} {
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(p))); !os.IsNotExist(err) {
			t.Errorf("%s (under vendor or testdata) was served (stat: %v)", p, err)
		}
	}
}
