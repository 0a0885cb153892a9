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
  1    an API or network failure (any ID failed to delete)
  2    a usage or configuration error: bad flags or arguments, no API key,
       an unreadable ID file, or an invalid user ID ("", "." or "..")
  130  interrupted by Ctrl-C (SIGINT) or SIGTERM`

// env is everything the command tree takes from the process, so that tests
// can run it in-process with their own streams, environment and signals.
type env struct {
	// Stdin, Stdout and Stderr are the standard streams.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// StderrIsTerminal enables the progress bar of bulk commands.
	StderrIsTerminal bool
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
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
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

// newRootCmd builds the command tree. Nothing in it is global: every run
// builds its own tree around e.
func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "pagecall",
		Short: "Command-line client for the Pagecall API",
		Long: `pagecall calls the Pagecall API through the pagecall-go SDK.

Try it without an account or network:
  pagecall demo

Configuration (environment):
  PAGECALL_API_KEY   the API key (or --api-key-file PATH; never a flag)
  PAGECALL_BASE_URL  the API base URL (default ` + defaultBaseURL + `)

` + exitCodesHelp,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(e.Stdin)
	root.SetOut(e.Stdout)
	root.SetErr(e.Stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(
		newUsersCmd(e),
		newMockCmd(e),
		newDemoCmd(e),
		newVersionCmd(e),
	)
	root.AddCommand(newTriggerCmd(e))
	root.AddCommand(newWebhookCmd(e))
	return root
}

// newUsersCmd is the "users" command group.
func newUsersCmd(e *env) *cobra.Command {
	users := &cobra.Command{
		Use:   "users",
		Short: "Manage Pagecall users",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	users.AddCommand(newUsersDeleteCmd(e))
	return users
}

// newLogger returns a debug-level text logger on w when verbose is set, and
// a logger that discards everything otherwise.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	if !verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
