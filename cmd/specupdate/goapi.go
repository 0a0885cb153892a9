package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// apidiffModule is the pinned apidiff (golang.org/x/exp has no release
// tags: a pseudo-version). Like oasdiff it is run with `go run
// module@version`, so that it does not enter go.mod. The Makefile's
// APIDIFF pins the same version (TestAPIDiffPinsAgree).
const apidiffModule = "golang.org/x/exp/cmd/apidiff@v0.0.0-20261113113407-e3970619a1a4"

// modulePath is the module apidiff compares, as a whole: every public
// package (apidiff leaves internal/ out).
const modulePath = "github.com/pplink/pagecall-go"

// apiListing is the checked-in listing of the exported Go API, which
// internal/apilist writes (make api-listing) and make check-api checks.
const apiListing = "api/go-api.txt"

// Classes of a Go API change, as apidiff decides them.
const (
	apiIncompatible = "incompatible" // a caller's build may break: a major version (minor while v0)
	apiCompatible   = "compatible"   // additions only: a minor version
	apiNone         = "none"         // no change to the exported API: a patch
)

// goAPIResult is apidiff's verdict on an update.
type goAPIResult struct {
	Class  string // apiIncompatible, apiCompatible, apiNone; "" when not compared
	Report string // apidiff's text
}

// writeAPIBaseline writes apidiff's export data of the module at root, as
// it is now, to a file in dir and returns its path.
func writeAPIBaseline(ctx context.Context, root, dir string) (string, error) {
	file, err := filepath.Abs(filepath.Join(dir, "base.export"))
	if err != nil {
		return "", err
	}
	if _, err := runGo(ctx, root, "run", apidiffModule, "-m", "-w", file, modulePath); err != nil {
		return "", err
	}
	return file, nil
}

// compareAPI runs apidiff on the baseline and the module at root as it is
// now, and classifies the change.
func compareAPI(ctx context.Context, root, baseline string) (goAPIResult, error) {
	out, err := runGo(ctx, root, "run", apidiffModule, "-m", baseline, modulePath)
	if err != nil {
		return goAPIResult{}, err
	}
	return goAPIResult{Class: classifyAPIDiff(out), Report: out}, nil
}

// classifyAPIDiff reads apidiff's text: a section "Incompatible changes:"
// makes the change incompatible, one "Compatible changes:" alone
// compatible, and neither means no change.
func classifyAPIDiff(report string) string {
	switch {
	case strings.Contains(report, "Incompatible changes:"):
		return apiIncompatible
	case strings.Contains(report, "Compatible changes:"):
		return apiCompatible
	}
	return apiNone
}

// semverBump is what README's Versioning section makes of a class while
// the module is v0.
func semverBump(class string) string {
	switch class {
	case apiIncompatible:
		return "a new minor version while v0 (a major version from v1)"
	case apiCompatible:
		return "a new minor version"
	case apiNone:
		return "a patch version"
	}
	return "not decided: the Go API was not compared"
}

// runGo runs the go command in dir and returns its standard output; on
// failure the error carries what it printed on stderr. apidiff prints
// "Ignoring internal package ..." there, which is left out.
func runGo(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", &stepError{"go " + strings.Join(args, " "), stderr.Bytes(), err}
	}
	return stdout.String(), nil
}

// apiSteps are the steps update adds after the checks when it compares
// the Go API: regenerate api/go-api.txt, then classify the change against
// the baseline into res. An incompatible change fails the update (and so
// restores everything) unless allowBreaking.
func apiSteps(baseline string, res *goAPIResult, allowBreaking bool) []step {
	return []step{
		{"go run ./internal/apilist -o " + apiListing, goCmd("run", "./internal/apilist", "-o", apiListing)},
		{"Go API compatibility (" + apidiffModule + ")", func(ctx context.Context, root string, w io.Writer) error {
			r, err := compareAPI(ctx, root, baseline)
			if err != nil {
				return err
			}
			*res = r
			fmt.Fprintf(w, "%s: %s\n", r.Class, semverBump(r.Class))
			io.WriteString(w, r.Report)
			if r.Class == apiIncompatible && !allowBreaking {
				return fmt.Errorf("apidiff: the Go API changes incompatibly, see above; re-run with ALLOW_BREAKING=1 to accept it")
			}
			return nil
		}},
	}
}

// hasAPIListing reports whether root has the API listing generator, which
// a scratch module of a test may lack.
func hasAPIListing(root string) bool {
	_, err := os.Stat(filepath.Join(root, "internal", "apilist"))
	return err == nil
}
