package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// oasdiffModule is the pinned oasdiff release. It is run with
// `go run module@version`, which resolves it in its own module graph: oasdiff
// pulls in many dependencies (cobra, viper, an HTML renderer, ...) that would
// otherwise land in our go.mod and go.sum although only maintainers use it.
// After the first run the binary comes from the build cache.
const oasdiffModule = "github.com/oasdiff/oasdiff@v1.37.0"

// updateResult is what update found and did, for the report sync writes.
type updateResult struct {
	// Breaking counts oasdiff's changes at error or warning level.
	Breaking int
	// Oasdiff is oasdiff's text report.
	Oasdiff string
	// Ops compares the operations and their generated methods.
	Ops opsDiff
	// GoBreaking lists generated methods removed or renamed.
	GoBreaking []string
	// GoAPI is apidiff's verdict on the module before and after, when
	// update compared the Go API (after its checks passed).
	GoAPI goAPIResult
	// Checks is what the steps after the replacement printed, test
	// results included.
	Checks string
}

// breakingSummary describes the breaking changes, "" when there are none.
func (r *updateResult) breakingSummary() string {
	var parts []string
	if r.Breaking > 0 {
		parts = append(parts, fmt.Sprintf("%d breaking changes (error or warning level)", r.Breaking))
	}
	if n := len(r.GoBreaking); n > 0 {
		parts = append(parts, fmt.Sprintf("%d generated methods removed or renamed", n))
	}
	if r.GoAPI.Class == apiIncompatible {
		parts = append(parts, "an incompatible Go API change (apidiff)")
	}
	return strings.Join(parts, " and ")
}

// update replaces root's api/openapi.yaml with the document at newSpec,
// after validating it and reporting breaking changes (oasdiff's, and the
// generated methods that would be removed or renamed), then regenerates
// and builds, vets and tests the module. Any failure after the replacement
// puts api/openapi.yaml, gen/ and internal/wire/ back exactly as they were. checks are the
// steps run after the replacement (steps, in make update-spec). With goAPI,
// update also regenerates api/go-api.txt and classifies the change to the
// module's exported Go API with apidiff, against the module as it was
// before: an incompatible change fails the update unless allowBreaking.
// The result is returned with the error too, as far as update got.
func update(ctx context.Context, root, newSpec string, allowBreaking bool, checks []step, goAPI bool, w io.Writer) (*updateResult, error) {
	res := &updateResult{}
	fmt.Fprintf(w, "== 1/4 validate %s\n", newSpec)
	next, err := validate(ctx, newSpec, filepath.Join(root, overlayFile), w)
	if err != nil {
		return res, err
	}
	current := filepath.Join(root, specFile)
	cur, err := checkSpec(ctx, current, filepath.Join(root, overlayFile))
	if err != nil {
		return res, fmt.Errorf("current %s: %w", specFile, err)
	}

	fmt.Fprintf(w, "== 2/4 changes, %s -> %s (both with %s applied)\n", specFile, newSpec, overlayFile)
	fmt.Fprintf(w, "-- breaking changes (%s)\n", oasdiffModule)
	n, text, err := breaking(ctx, cur.Overlaid, next.Overlaid)
	if err != nil {
		return res, err
	}
	w.Write(text)
	res.Breaking, res.Oasdiff = n, string(text)
	fmt.Fprintf(w, "-- operations and generated methods (oapi-codegen's names, %s)\n", genConfig)
	before, _, err := inventory(root, current)
	if err != nil {
		return res, fmt.Errorf("current %s: %w", specFile, err)
	}
	after, _, err := inventory(root, newSpec)
	if err != nil {
		return res, err
	}
	res.Ops = diffOperations(before, after)
	res.Ops.write(w)
	res.GoBreaking = res.Ops.GoBreaking()

	fmt.Fprintln(w, "== 3/4 decide")
	switch summary := res.breakingSummary(); {
	case summary == "":
		fmt.Fprintln(w, "no breaking changes")
	case allowBreaking:
		fmt.Fprintf(w, "%s, accepted: ALLOW_BREAKING=1\n", summary)
	default:
		return res, fmt.Errorf("%s, see above; nothing was changed. Re-run with ALLOW_BREAKING=1 to accept them", summary)
	}

	data, err := os.ReadFile(newSpec)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(w, "== 4/4 replace %s, regenerate, build, vet, test\n", specFile)
	if goAPI && hasAPIListing(root) {
		dir, err := os.MkdirTemp("", "specupdate-apidiff-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		fmt.Fprintf(w, "-- Go API before the update (%s -w)\n", apidiffModule)
		baseline, err := writeAPIBaseline(ctx, root, dir)
		if err != nil {
			return res, err
		}
		checks = append(slices.Clone(checks), apiSteps(baseline, &res.GoAPI, allowBreaking)...)
	}
	var out strings.Builder
	err = applySpec(ctx, root, data, checks, io.MultiWriter(w, &out))
	res.Checks = out.String()
	if err != nil {
		return res, err
	}
	fmt.Fprintf(w, "%s updated from %s; review `git diff` and commit %s, %s/ and %s/ together\n", specFile, newSpec, specFile, genDir, wireDir)
	return res, nil
}

// applySpec writes data to root's api/openapi.yaml and runs checks on the
// module. If anything fails, it puts api/openapi.yaml, gen/ and
// internal/wire/ back byte for byte (files the failed run added there are
// removed) before returning the error.
func applySpec(ctx context.Context, root string, data []byte, checks []step, w io.Writer) error {
	paths := []string{specFile, genDir, wireDir}
	if _, err := os.Stat(filepath.Join(root, apiListing)); err == nil {
		paths = append(paths, apiListing) // regenerated when update compares the Go API
	}
	// The generated files outside internal/wire (the root package's operations.gen.go
	// and its test, the CLI's cmd/pagecall/operations.gen.go) come from the
	// spec too.
	for _, pattern := range []string{"*.gen.go", "*.gen_test.go", "cmd/*/*.gen.go"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return err
		}
		for _, f := range m {
			rel, err := filepath.Rel(root, f)
			if err != nil {
				return err
			}
			paths = append(paths, rel)
		}
	}
	snap, err := takeSnapshot(root, paths...)
	if err != nil {
		return fmt.Errorf("snapshot before replacing: %w", err)
	}
	err = replaceAndCheck(ctx, root, data, checks, w)
	if err == nil {
		return nil
	}
	if rerr := snap.restore(); rerr != nil {
		return fmt.Errorf("%w\nRESTORE FAILED, fix by hand (git checkout -- %s %s %s): %v", err, specFile, genDir, wireDir, rerr)
	}
	fmt.Fprintf(w, "restored %s, %s/ and %s/ as they were\n", specFile, genDir, wireDir)
	return err
}

// replaceAndCheck writes data to root's api/openapi.yaml and runs the steps
// every spec version must pass, stopping at the first failure.
func replaceAndCheck(ctx context.Context, root string, data []byte, checks []step, w io.Writer) error {
	if err := os.WriteFile(filepath.Join(root, specFile), data, 0o644); err != nil {
		return err
	}
	for _, s := range checks {
		fmt.Fprintf(w, "-- %s\n", s.name)
		if err := s.run(ctx, root, w); err != nil {
			return err
		}
	}
	return nil
}

// breaking runs oasdiff on the two documents and returns the number of
// changes at warning level or above, and its text report. Warnings count:
// for a Go SDK, a removed request parameter or property is a removed struct
// field, which breaks callers' builds.
func breaking(ctx context.Context, base, revision []byte) (int, []byte, error) {
	dir, err := os.MkdirTemp("", "specupdate-oasdiff-")
	if err != nil {
		return 0, nil, err
	}
	defer os.RemoveAll(dir)
	// Short relative names, so that the report reads "at current.yaml".
	if err := os.WriteFile(filepath.Join(dir, "current.yaml"), base, 0o644); err != nil {
		return 0, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "new.yaml"), revision, 0o644); err != nil {
		return 0, nil, err
	}
	oasdiff := func(format string) ([]byte, error) {
		args := []string{"run", oasdiffModule, "breaking", "--allow-external-refs=false", "-f", format, "current.yaml", "new.yaml"}
		if format == "text" {
			args = append(args, "--color", "never")
		}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("oasdiff (%s) failed: %v\n%s", oasdiffModule, err, stderr.Bytes())
		}
		return out, nil
	}
	text, err := oasdiff("text")
	if err != nil {
		return 0, nil, err
	}
	js, err := oasdiff("json")
	if err != nil {
		return 0, nil, err
	}
	var changes []struct {
		Level int `json:"level"` // 1 info, 2 warning, 3 error
	}
	if err := json.Unmarshal(js, &changes); err != nil {
		return 0, nil, fmt.Errorf("oasdiff JSON report: %w", err)
	}
	n := 0
	for _, c := range changes {
		if c.Level >= 2 {
			n++
		}
	}
	return n, text, nil
}

// snapshot holds the bytes and modes of a set of files, so that they can be
// put back exactly.
type snapshot struct {
	root  string
	dirs  []string // directories whose whole content is restored
	files map[string]snapFile
}

type snapFile struct {
	data []byte
	mode fs.FileMode
}

// takeSnapshot records root-relative paths: regular files, and directories
// (recursively), whose files not in the snapshot are removed on restore.
func takeSnapshot(root string, paths ...string) (*snapshot, error) {
	s := &snapshot{root: root, files: map[string]snapFile{}}
	for _, p := range paths {
		err := filepath.WalkDir(filepath.Join(root, p), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			if d.IsDir() {
				s.dirs = append(s.dirs, rel)
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			s.files[rel] = snapFile{data, info.Mode().Perm()}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// restore removes files that appeared in the snapshot's directories and
// writes every recorded file back with its recorded bytes and mode.
func (s *snapshot) restore() error {
	var errs []error
	for _, d := range s.dirs {
		err := filepath.WalkDir(filepath.Join(s.root, d), func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(s.root, path)
			if err != nil {
				return err
			}
			if e.IsDir() {
				return nil
			}
			if _, ok := s.files[rel]; !ok {
				return os.Remove(path)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for rel, f := range s.files {
		path := filepath.Join(s.root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.WriteFile(path, f.data, f.mode); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, os.Chmod(path, f.mode))
	}
	return errors.Join(errs...)
}
