// Command specupdate is the maintainers' tool for taking a new version of
// Pagecall's OpenAPI document into the SDK. It is not part of the library:
// nothing imports it, so the OpenAPI libraries it uses are not linked into
// programs that use the SDK.
//
// Usage, from the module root (the Makefile targets wrap it):
//
//	specupdate validate FILE        load, overlay and validate FILE
//	specupdate update [-allow-breaking] FILE
//	                                validate, report breaking changes against
//	                                api/openapi.yaml, replace it, regenerate and
//	                                build, vet and test; restore on failure
//	specupdate history [-dir D] [-j N]
//	                                regenerate and test (-short -tags anyspec) every
//	                                published version in a scratch copy
//	specupdate sync [-allow-breaking] [-report F] [-outputs F] [-source S] FILE
//	                                update, then write a pull request report
//	                                (what the spec-sync workflow runs)
//
// See docs/SPEC-UPDATES.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// Paths inside the module, relative to its root.
const (
	specFile    = "api/openapi.yaml"
	overlayFile = "api/overlay.yaml"
	genDir      = "gen"                       // generator configs and templates
	wireDir     = "internal/wire"             // the generated models and client
	genFile     = "internal/wire/wire.gen.go" // written by gen/config.yaml
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  specupdate validate FILE
  specupdate update [-allow-breaking] FILE
  specupdate history [-dir DIR] [-j N]
  specupdate sync [-allow-breaking] [-report FILE] [-outputs FILE] [-source TEXT] FILE
`

// run executes one subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("specupdate "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	allow := fs.Bool("allow-breaking", false, "replace the spec even if oasdiff reports breaking changes")
	dir := fs.String("dir", filepath.Join("..", "shared", "specs", "pagecall-history"), "directory of published versions (history)")
	jobs := fs.Int("j", 2, "versions checked in parallel (history)")
	report := fs.String("report", "", "write the Markdown pull request report to this file (sync)")
	outputs := fs.String("outputs", "", "append changed=, breaking= and title= lines to this file, e.g. $GITHUB_OUTPUT (sync)")
	source := fs.String("source", "", "where FILE came from, for the report (sync)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	var err error
	switch args[0] {
	case "validate":
		if fs.NArg() != 1 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		_, err = validate(ctx, fs.Arg(0), overlayFile, stdout)
	case "update":
		if fs.NArg() != 1 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		_, err = update(ctx, ".", fs.Arg(0), *allow, steps, true, stdout)
	case "sync":
		if fs.NArg() != 1 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		err = syncSpec(ctx, ".", fs.Arg(0), syncOptions{AllowBreaking: *allow, Report: *report, Outputs: *outputs, Source: *source}, stdout)
	case "history":
		err = history(ctx, ".", *dir, *jobs, stdout)
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "specupdate %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// validate checks the document at file against the module's
// api/overlay.yaml (at overlay) and prints its notes. It returns the check
// for the caller's further use.
func validate(ctx context.Context, file, overlay string, w io.Writer) (*checked, error) {
	c, err := checkSpec(ctx, file, overlay)
	if err != nil {
		return nil, err
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "note: %s: %s\n", file, n)
	}
	if err := c.err(file); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "%s: valid after %s for kin-openapi and libopenapi-validator (%d operations; overlay matches %s)\n", file, overlayFile, c.Operations, matchCounts(c.Actions))
	return c, nil
}

// matchCounts formats how many nodes each overlay action matched, in order.
func matchCounts(actions []actionMatch) string {
	s := ""
	for i, a := range actions {
		if i > 0 {
			s += "/"
		}
		s += fmt.Sprint(a.Matches)
	}
	return s
}
