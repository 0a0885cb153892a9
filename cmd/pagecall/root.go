package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes. They are documented in the root command's help.
const (
	exitOK          = 0
	exitFailure     = 1   // an API or network failure
	exitUsage       = 2   // a usage or configuration error
	exitInterrupted = 130 // stopped by SIGINT or SIGTERM (128 + SIGINT)
)

// exitCodesHelp is the exit-code section of the root command's help, also
// meant for the README.
const exitCodesHelp = `Exit status:
  0    every operation succeeded
  1    an API or network failure (an API error is printed on one line;
       for a bulk delete: any ID failed)
  2    a usage or configuration error: bad flags or arguments, no API key,
       an unreadable file, a request the spec refuses (a missing required
       field, a bad enum value, invalid JSON in --data), or a path
       parameter of "", "." or "..": nothing was sent
  130  interrupted by Ctrl-C (SIGINT) or SIGTERM`

// env is everything the command tree takes from the process, so that tests
// can run it in-process with their own streams, environment and signals.
type env struct {
	// Stdin, Stdout and Stderr are the standard streams.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// StderrIsTerminal enables the progress bar of bulk commands.
	StderrIsTerminal bool
	// StdoutIsTerminal makes tables the default output.
	StdoutIsTerminal bool
	// Getenv reads an environment variable; nil reads none.
	Getenv func(string) string
	// Signals delivers SIGINT and SIGTERM. The first stops a command
	// gracefully, the second aborts what is in flight. Nil delivers none.
	Signals <-chan os.Signal
}

// getenv reads the variable name through e.Getenv.
func (e *env) getenv(name string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(name)
}

// exitError is an error that carries its exit code. Errors without one
// are usage errors (cobra's flag and argument errors).
type exitError struct {
	code int
	err  error // nil when the command already reported everything
}

// Error returns the wrapped error's message, or the bare exit status.
func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// Unwrap returns the wrapped error.
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err with an exit code; a nil err means the command has
// already printed what went wrong.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// usageErrorf is a usage or configuration error (exit status 2).
func usageErrorf(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

// run executes the command line args and returns the exit status.
func run(ctx context.Context, e *env, args []string) int {
	locked := *e
	locked.Stderr = &lockedWriter{w: e.Stderr}
	e = &locked
	root, err := newRootCmd(e, needsAPI(args))
	if err != nil {
		fmt.Fprintln(e.Stderr, "pagecall: "+err.Error())
		return exitFailure
	}
	root.SetArgs(args)
	err = root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitUsage
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	}
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "pagecall: ") { // the SDK's errors have it
			msg = "pagecall: " + msg
		}
		fmt.Fprintln(e.Stderr, msg)
		if code == exitUsage && ee == nil {
			fmt.Fprintln(e.Stderr, "Run 'pagecall --help' for usage.")
		}
	}
	return code
}

// needsAPI reports whether a command line may need the resource commands:
// all but those of the tool commands, which call no operation and are
// spared loading the spec (about 30 ms, mostly applying the overlay).
func needsAPI(args []string) bool {
	if len(args) == 0 {
		return true
	}
	switch args[0] {
	case "mock", "demo", "version", "contract", "spec":
		return false
	}
	return true
}

// newRootCmd builds the command tree. Nothing in it is global: every run
// builds its own tree around e. The resource commands (users, rooms,
// members, ...), added when api is set, are derived from the embedded spec
// (commands.go); an error means the spec or the generated table is broken.
func newRootCmd(e *env, api bool) (*cobra.Command, error) {
	root := &cobra.Command{
		Use:   "pagecall",
		Short: "Command-line client for the Pagecall API",
		Long: `pagecall calls the Pagecall API through the pagecall-go SDK: every operation
of Pagecall's OpenAPI document is a command, pagecall <resource> <verb>.

Try it without an account or network:
  pagecall mock &        # a local mock API; it prints the two variables to set
  pagecall demo          # or: the SDK at work against an in-process mock

Configuration (environment):
  PAGECALL_API_KEY   the API key (or --api-key-file PATH; never a flag)
  PAGECALL_BASE_URL  the API base URL (default ` + defaultBaseURL + `)

Output: one resource is one JSON object; a list is JSON Lines, one item a
line (--all streams every page); --format json|jsonl|table, and a table by
default when stdout is a terminal.

` + exitCodesHelp,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(e.Stdin)
	root.SetOut(e.Stdout)
	root.SetErr(e.Stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	if api {
		resources, err := newAPICmds(e)
		if err != nil {
			return nil, err
		}
		root.AddCommand(resources...)
	}
	root.AddCommand(
		newMockCmd(e),
		newDemoCmd(e),
		newVersionCmd(e),
	)
	root.AddCommand(newTriggerCmd(e))
	root.AddCommand(newWebhookCmd(e))
	root.AddCommand(newContractCmd(e))
	root.AddCommand(newSpecCmd(e))
	return root, nil
}

// newAPICmds returns the resource commands: one command per operation of
// the embedded spec, with users delete the bulk command of delete.go, and
// the hand-written rooms terminate and rooms url.
func newAPICmds(e *env) ([]*cobra.Command, error) {
	doc, err := loadDocument()
	if err != nil {
		return nil, err
	}
	reserved := map[string]bool{"rooms terminate": true, "rooms url": true}
	ops, err := apiOps(doc, cliOperations, reserved)
	if err != nil {
		return nil, err
	}
	var update *apiOp
	for _, o := range ops {
		if o.resource == "rooms" && o.verb == "update" {
			update = o
		}
	}
	overrides := map[string]func() *cobra.Command{
		"users delete": func() *cobra.Command { return newUsersDeleteCmd(e) },
	}
	extras := map[string][]*cobra.Command{
		"rooms": {newRoomsTerminateCmd(e, update), newRoomsURLCmd(e)},
	}
	return newResourceCmds(e, ops, overrides, extras), nil
}

// newLogger returns a debug-level text logger on w when verbose is set, and
// a logger that discards everything otherwise.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	if !verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
