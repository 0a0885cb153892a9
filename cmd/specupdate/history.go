package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// result is the outcome of checking one published version.
type result struct {
	name     string
	dur      time.Duration
	ops      int
	overlay  string
	err      error
	refusals []string // what would stop update-spec, not a failure here
}

// history regenerates and tests (historySteps) the module against every
// published version in dir, each in a scratch copy of root's files (never
// root itself), jobs versions at a time. A missing dir is a skip, not an
// error, so that the target works where ../shared is not present.
func history(ctx context.Context, root, dir string, jobs int, w io.Writer) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(w, "spec-history: skipped: %s not found (the published versions sit in ../shared beside the repository)\n", dir)
		return nil
	}
	versions, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		return fmt.Errorf("no *.yaml in %s", dir)
	}
	sort.Strings(versions)
	jobs = max(1, min(jobs, len(versions)))

	files, err := moduleFiles(ctx, root)
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "spec-history-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)

	start := time.Now()
	results := make([]chan result, len(versions))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	copies := make([]string, jobs)
	for j := range copies {
		copies[j] = filepath.Join(scratch, fmt.Sprintf("w%d", j))
		if err := copyFiles(root, copies[j], files); err != nil {
			return err
		}
	}
	for _, copyDir := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] <- checkVersion(ctx, copyDir, versions[i])
			}
		}()
	}
	go func() {
		for i := range versions {
			work <- i
		}
		close(work)
	}()

	passed := 0
	for i := range versions {
		r := <-results[i]
		status := "OK"
		if r.err != nil {
			status = "FAIL"
		} else {
			passed++
		}
		fmt.Fprintf(w, "%-30s %-4s %5.1fs %3d ops  overlay matches %s\n", r.name, status, r.dur.Seconds(), r.ops, r.overlay)
		if len(r.refusals) > 0 {
			fmt.Fprintf(w, "    note: update-spec would refuse this version (%d validation problems), first: %s\n", len(r.refusals), r.refusals[0])
		}
		if r.err != nil {
			fmt.Fprintf(w, "    %s\n", strings.ReplaceAll(r.err.Error(), "\n", "\n    "))
		}
	}
	wg.Wait()
	fmt.Fprintf(w, "spec-history: %d/%d passed (%.0fs total, %d in parallel)\n", passed, len(versions), time.Since(start).Seconds(), jobs)
	if passed != len(versions) {
		return fmt.Errorf("%d of %d versions failed", len(versions)-passed, len(versions))
	}
	return nil
}

// checkVersion checks one published version in the scratch module copyDir:
// the overlay's errata must be gone, DeleteUser must keep its shape and the
// second validator (secondOpinion) must find the overlaid document valid,
// then it must generate and pass the tests (historySteps).
func checkVersion(ctx context.Context, copyDir, version string) result {
	start := time.Now()
	r := result{name: strings.TrimSuffix(filepath.Base(version), ".yaml"), overlay: "-"}
	r.err = func() error {
		c, err := checkSpec(ctx, version, filepath.Join(copyDir, overlayFile))
		if err != nil {
			return err
		}
		r.ops, r.overlay, r.refusals = c.Operations, matchCounts(c.Actions), c.Invalid
		// A problem the second validator finds in the overlaid document
		// fails the version: the overlay itself must not make a version
		// invalid (as it once left `required: []`).
		if problems := append(slices.Clone(c.Contract), c.Independent...); len(problems) > 0 {
			return &validationError{File: version, Problems: problems}
		}
		data, err := os.ReadFile(version)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(copyDir, specFile), data, 0o644); err != nil {
			return err
		}
		for _, s := range historySteps {
			if err := s.run(ctx, copyDir, io.Discard); err != nil {
				return err
			}
		}
		return nil
	}()
	r.dur = time.Since(start)
	return r
}

// moduleFiles lists the files of the working tree at root that git tracks or
// would track (untracked but not ignored), so that a scratch copy includes
// uncommitted work and excludes build output.
func moduleFiles(ctx context.Context, root string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files in %s: %v: %s", root, err, stderr.Bytes())
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// copyFiles copies the regular files among files (paths relative to src) to
// dst. Files deleted from the working tree but still in the index are
// skipped.
func copyFiles(src, dst string, files []string) error {
	for _, f := range files {
		from := filepath.Join(src, f)
		info, err := os.Lstat(from)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(to, data, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}
