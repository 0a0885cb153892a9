package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/pplink/pagecall-go/internal/contract"
	"github.com/spf13/cobra"
)

type contractOptions struct {
	client         clientFlags
	write          bool
	format         string
	suggest        string
	overlay        string
	cleanupTimeout time.Duration
}

func newContractCmd(e *env) *cobra.Command {
	group := &cobra.Command{
		Use:   "contract",
		Short: "Check what the live API answers against the spec this SDK was generated from",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var o contractOptions
	check := &cobra.Command{
		Use:   "check [flags]",
		Short: "Find where the API's answers differ from the spec (read-only unless --write)",
		Long: `Call the API and check every answer (status and body) against the embedded
OpenAPI document with its overlay, the spec the SDK was generated from, and
against the published document without the overlay.

By default it is read-only: it calls every GET operation, following IDs
from list answers to the get operations (the first room, its members and
sessions, the first user). --write also calls every write operation, on
objects it creates itself, named ` + contract.Prefix + `<random>; it removes
them all at the end, also after a failure, a timeout or Ctrl-C, and lists
anything it could not remove: NOT REMOVED when a GET finds it, MAYBE NOT
REMOVED when nothing could tell. It never changes an object it did not
create. The summary lists every operation the run did not call, and why.

Each finding is one line: operation (the operationId, spelt as the SDK's
method: GetUser), method, path
(template), status, pointer (RFC 6901 into the body, * for every item of a
list), kind, verdict and problem. No value from an answer is printed, except
an unknown enum value in a suggested overlay. Verdicts:
  drift              the answer breaks the spec and the overlay does not fix it
  overlay-refuted    the answer breaks the overlay's change; the published
                     spec accepts it
  overlay-confirmed  the published spec refuses the answer; the overlay's fix
                     accepts it: the overlay says what the API does
  undocumented       a property no schema declares (allowed: not new drift)
Kinds: type, null, missing, enum, format, extra, status, body, other.

--suggest-overlay FILE writes overlay actions (api/overlay.yaml's format,
each with its why) that make the spec accept what was observed; --overlay
FILE applies such a file after the embedded overlay, to check them.
Paste the report into an issue when the SDK fails on a real answer.

Exit status: 0 no new drift, 1 new drift (or a call failed, or an object
could not be removed), 2 usage or configuration error, 130 interrupted.`,
		Example: `  pagecall contract check
  pagecall contract check --format jsonl > drift.jsonl
  pagecall contract check --write --suggest-overlay suggested.yaml
  pagecall contract check --overlay suggested.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runContractCheck(cmd.Context(), e, &o)
		},
	}
	fs := check.Flags()
	fs.BoolVar(&o.write, "write", false, "also exercise every write operation on objects the check creates (and removes)")
	fs.StringVarP(&o.format, "format", "o", "", "output: jsonl or table (default: table on a terminal, else jsonl)")
	fs.StringVar(&o.suggest, "suggest-overlay", "", "write overlay actions that would make the spec accept what was observed to this file")
	fs.StringVar(&o.overlay, "overlay", "", "apply this overlay file after the embedded overlay (e.g. a --suggest-overlay file)")
	fs.DurationVar(&o.cleanupTimeout, "cleanup-timeout", time.Minute, "bound on removing what --write created, after the run or an interrupt")
	_ = check.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{formatJSONL, formatTable}, cobra.ShellCompDirectiveNoFileComp))
	o.client.register(fs)
	group.AddCommand(check)
	return group
}

// contractOperations is the generated table as package contract takes it.
func contractOperations() []contract.Operation {
	ops := make([]contract.Operation, 0, len(cliOperations))
	for _, op := range cliOperations {
		ops = append(ops, contract.Operation{ID: op.operationID, Method: op.method, Path: op.path})
	}
	return ops
}

// runContractCheck is "pagecall contract check": the flags, the signals
// and the exit status around package contract.
func runContractCheck(ctx context.Context, e *env, o *contractOptions) error {
	if o.format != "" && o.format != formatJSONL && o.format != formatTable {
		return usageErrorf("--format %q: want jsonl or table", o.format)
	}
	if o.cleanupTimeout <= 0 {
		return usageErrorf("--cleanup-timeout must be positive")
	}
	var extra []byte
	if o.overlay != "" {
		b, err := os.ReadFile(o.overlay)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--overlay: %w", err))
		}
		extra = b
	}
	spec, err := contract.Load(extra)
	if err != nil {
		return withCode(exitUsage, err)
	}
	c, err := o.client.newClient(e, newLogger(e.Stderr, o.client.verbose))
	if err != nil {
		return err
	}
	ctx, sw := watchSignals(ctx, e.Signals, e.Stderr, "starting no new call; removing what was created; press Ctrl-C again to abort the call in flight")
	defer sw.Release()
	rep := contract.Run(ctx, c, spec, contractOperations(), contract.Options{
		Write: o.write, CleanupTimeout: o.cleanupTimeout, Stop: sw.Stopped(), Notice: e.Stderr,
	})
	sw.Release()

	format := o.format
	if format == "" {
		format = formatJSONL
		if e.StdoutIsTerminal {
			format = formatTable
		}
	}
	if err := rep.Print(e.Stdout, format); err != nil {
		return withCode(exitFailure, err)
	}
	if o.suggest != "" {
		if err := contract.WriteSuggestions(o.suggest, rep); err != nil {
			return withCode(exitFailure, err)
		}
	}
	rep.Summary(e.Stderr, o.overlay, o.suggest)
	switch {
	case sw.Interrupted():
		return withCode(exitInterrupted, nil)
	case rep.Failed():
		return withCode(exitFailure, nil)
	}
	return nil
}
