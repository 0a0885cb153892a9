package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/internal/bulk"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// maxConcurrency bounds --concurrency: more parallel deletions than this
// only trip the API's rate limits.
const maxConcurrency = 64

type deleteOptions struct {
	clientFlags
	file        string
	concurrency int
	dryRun      bool
	rate        float64
	results     string
	resume      bool
	job         jobFlags // --redis --job (job.go)
}

func newUsersDeleteCmd(e *env) *cobra.Command {
	var o deleteOptions
	cmd := &cobra.Command{
		Use:   "delete [flags] USER_ID...",
		Short: "Delete users by ID",
		Long: `Delete Pagecall users by their user_id.

With exactly one USER_ID argument (and no --file or --results), the
deleted user is printed to stdout as one JSON object.

Otherwise (several IDs, or --file, --results or --dry-run) the IDs are deleted
--concurrency at a time and stdout gets one JSON Lines record per unique
ID, in the order they finish:
  {"id":"…","line":7,"outcome":"deleted","status":200,"attempts":1}
line is the ID's line in --file (left out for an ID given as an argument).
attempts counts the requests sent for the ID, retries included: a "user
not found" with attempts above 1 most likely means that an earlier
attempt, whose answer was lost, deleted the user.
outcome is one of:
  deleted      the API deleted the user
  failed       the API refused (see status and error) or the network failed
  invalid      the ID is "", "." or "..": never sent
  dry_run      --dry-run: it would be deleted; nothing was sent
  not_started  interrupted before its turn: never sent
  aborted      in flight when a second interrupt came: it may or may not
               have been deleted
A summary line goes to stderr at the end, and a progress bar (with the
rate and the time left) while running when stderr is a terminal (not
with --verbose).

--rate N sends at most N requests per second over the whole run, retries
included (the client also waits out any Retry-After the API sends, for
every deletion at once).

--results FILE appends each record to FILE as well, as one whole line
written as soon as its ID finishes, so that a crash (even kill -9) loses
at most the IDs in flight. --resume (with --results) skips every ID that
FILE already records as deleted (matched by ID, so that a file from
an older version, without line numbers, works too) and appends this run's records to it;
a torn last line, which only a power cut can leave, is dropped. The up
to --concurrency IDs that were in flight when a run died are sent again:
those the dead run had deleted now fail with the API's "user not found".

--file reads IDs one per line (- reads stdin): surrounding white space is
trimmed, blank lines and lines starting with # are skipped. An ID given
more than once, in the arguments or the file, is deleted once (exactly:
IDs are compared byte for byte), at its first position.

The IDs are streamed, not held in memory: ten million need under 64 MiB.
To find the duplicates (and, with --resume, the IDs already deleted) they
are copied and sorted in chunks in the temporary directory ($TMPDIR),
which needs free space of about two and a half times the size of the ID
list (and of FILE's deleted records, with --resume) while the run lasts.
The files are removed at the end, except after a kill -9.

Ctrl-C (SIGINT) or SIGTERM starts no new deletion, lets those in flight
finish, prints the summary and exits 130; a second one aborts those in
flight.

The API key comes from $PAGECALL_API_KEY or --api-key-file (there is no
--api-key flag, so that the key stays out of shell history and process
lists); --dry-run needs none.

Exit status: 0 all deleted, 1 any failed or aborted, 2 usage or
configuration error (including any invalid ID), 130 interrupted.` + jobHelp,
		Example: `  pagecall users delete external_user_102932
  pagecall users delete alice bob carol --concurrency 2
  grep -v '^test_' ids.txt | pagecall users delete --file - > results.jsonl
  pagecall users delete --file ids.txt --dry-run
  pagecall users delete --file ids.txt --rate 50 --results done.jsonl > /dev/null
  pagecall users delete --file ids.txt --rate 50 --results done.jsonl --resume > /dev/null`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDelete(cmd.Context(), e, &o, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.file, "file", "f", "", "read user IDs from this file, one per line (- for stdin)")
	fs.IntVarP(&o.concurrency, "concurrency", "c", 4, fmt.Sprintf("deletions in flight at once (1-%d)", maxConcurrency))
	fs.BoolVar(&o.dryRun, "dry-run", false, "list what would be deleted, send nothing (needs no API key)")
	fs.Float64Var(&o.rate, "rate", 0, "send at most this many requests per second, retries included (0: no limit)")
	fs.StringVar(&o.results, "results", "", "append each record to this file as one flushed line as soon as its ID finishes")
	fs.BoolVar(&o.resume, "resume", false, "with --results: skip the IDs the file records as deleted")
	o.register(fs)
	o.job.register(fs)
	return cmd
}

// runDelete is "pagecall users delete".
func runDelete(ctx context.Context, e *env, o *deleteOptions, args []string) error {
	if o.concurrency < 1 || o.concurrency > maxConcurrency {
		return usageErrorf("--concurrency must be between 1 and %d, not %d", maxConcurrency, o.concurrency)
	}
	if !(o.rate >= 0) || math.IsInf(o.rate, 1) {
		return usageErrorf("--rate must be a number of requests per second, not %v", o.rate)
	}
	if o.job.requested() {
		return runJob(ctx, e, o, args)
	}
	if len(args) == 0 && o.file == "" {
		return withCode(exitUsage, errors.New("no user IDs: give USER_ID arguments or --file PATH (see --help)"))
	}
	if o.resume && o.results == "" {
		return usageErrorf("--resume needs --results FILE: the file of the run to resume")
	}
	if o.dryRun {
		plan, err := newPlan(e, o.file, args, nil)
		if err != nil {
			return withCode(exitUsage, err)
		}
		defer plan.Close()
		return dryRun(e, plan)
	}
	log := newLogger(e.Stderr, o.verbose)
	extra := []pagecall.Option{pagecall.WithHooks(bulk.StatusHooks())}
	if o.rate > 0 {
		extra = append(extra, pagecall.WithRateLimit(o.rate, 1))
	}
	c, err := o.newClient(e, log, extra...)
	if err != nil {
		return err
	}
	if len(args) == 1 && o.file == "" && o.results == "" {
		return deleteSingle(ctx, e, c, args[0])
	}
	var results *bulk.Results
	var done io.Reader
	if o.results != "" {
		if results, err = bulk.OpenResults(o.results); err != nil {
			return withCode(exitUsage, err)
		}
		defer results.Close()
		if results.Dropped > 0 {
			fmt.Fprintf(e.Stderr, "pagecall: %s: dropped a torn last line (%d bytes)\n", o.results, results.Dropped)
		}
		if o.resume {
			if done, err = results.Records(); err != nil {
				return withCode(exitUsage, fmt.Errorf("--results %s: %w", o.results, err))
			}
		}
	}
	plan, err := newPlan(e, o.file, args, done)
	if err != nil {
		return withCode(exitUsage, err)
	}
	defer plan.Close()
	return deleteBulk(ctx, e, c, plan, o.concurrency, e.StderrIsTerminal && !o.verbose, results)
}

// newPlan reads the IDs from args and the --file source, if any, leaving
// out those that the records in done give as deleted.
func newPlan(e *env, file string, args []string, done io.Reader) (*bulk.Plan, error) {
	in := bulk.Input{Args: args, Name: file}
	switch file {
	case "":
	case "-":
		if e.Stdin == nil {
			return nil, errors.New("--file -: no standard input")
		}
		in.File, in.Name = e.Stdin, "stdin"
	default:
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in.File = f
	}
	return bulk.NewPlan(in, bulk.PlanOptions{Done: done})
}

// deleteSingle deletes one user and prints it as JSON.
func deleteSingle(ctx context.Context, e *env, c bulk.Deleter, id string) error {
	if err := pagecall.ValidateUserID(id); err != nil {
		return withCode(exitUsage, err)
	}
	ctx, sw := watchSignals(ctx, e.Signals, e.Stderr, "waiting for the deletion in flight to finish; press Ctrl-C again to abort")
	defer sw.Release()
	user, err := c.DeleteUser(ctx, id)
	sw.Release()
	if err != nil {
		code := exitFailure
		if sw.Interrupted() {
			code = exitInterrupted
		}
		return withCode(code, err)
	}
	enc := json.NewEncoder(e.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(user); err != nil {
		return withCode(exitFailure, fmt.Errorf("write result: %w", err))
	}
	if sw.Interrupted() {
		return withCode(exitInterrupted, nil)
	}
	return nil
}

// dryRun prints what a bulk delete would do, sending nothing.
func dryRun(e *env, plan *bulk.Plan) error {
	start := time.Now()
	out := bulk.NewRecordWriter(e.Stdout)
	t := bulk.Tally{Duplicates: plan.Duplicates}
	err := bulk.DryRun(context.Background(), plan, bulk.SinkFunc(func(r bulk.Record) {
		t.Add(r)
		out.Write(r)
	}))
	fmt.Fprintln(e.Stderr, t.Summary(true, time.Since(start), false))
	if err != nil {
		return withCode(exitFailure, err)
	}
	if err := out.Err(); err != nil {
		return withCode(exitFailure, fmt.Errorf("write results: %w", err))
	}
	return exitStatus(&t, false)
}

// deleteBulk deletes the IDs of plan concurrency at a time, printing one
// record per ID as it finishes and a summary at the end.
func deleteBulk(ctx context.Context, e *env, c bulk.Deleter, plan *bulk.Plan, concurrency int, showBar bool, results *bulk.Results) error {
	start := time.Now()
	ctx, sw := watchSignals(ctx, e.Signals, e.Stderr, "starting no new deletions, waiting for those in flight; press Ctrl-C again to abort")
	defer sw.Release()

	var bar *progressbar.ProgressBar
	if showBar && plan.Pending > 0 {
		bar = progressbar.NewOptions(plan.Pending,
			progressbar.OptionSetWriter(e.Stderr),
			progressbar.OptionSetDescription("deleting"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("IDs"),
			progressbar.OptionSetPredictTime(true), // [elapsed:left]
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(50*time.Millisecond),
		)
	}
	out := bulk.NewRecordWriter(e.Stdout)
	t := bulk.Tally{Duplicates: plan.Duplicates, Resumed: plan.Done}
	// A record that cannot be written stops new deletions: a deletion with
	// no record would be sent again by --resume.
	runErr := bulk.Run(ctx, sw.Stopped(), c, plan, concurrency, recordSink(func(r bulk.Record) error {
		t.Add(r)
		results.Write(r)
		out.Write(r)
		if bar != nil {
			_ = bar.Add(1)
		}
		return errors.Join(results.Err(), out.Err())
	}))
	sw.Release()
	if bar != nil {
		_ = bar.Finish() // clears the bar: OptionClearOnFinish
	}
	fmt.Fprintln(e.Stderr, t.Summary(false, time.Since(start), sw.Interrupted()))
	if runErr != nil {
		return withCode(exitFailure, runErr)
	}
	if err := results.Close(); err != nil {
		return withCode(exitFailure, fmt.Errorf("write %s: %w", results.Name, err))
	}
	if err := out.Err(); err != nil {
		return withCode(exitFailure, fmt.Errorf("write results: %w", err))
	}
	return exitStatus(&t, sw.Interrupted())
}

// exitStatus maps a run's tally to the command's exit status: interrupted
// 130, else any failure 1, else any invalid ID 2, else 0. The records and
// the summary already told the details, so the error prints nothing more.
func exitStatus(t *bulk.Tally, interrupted bool) error {
	switch {
	case interrupted:
		return withCode(exitInterrupted, nil)
	case t.Failed > 0 || t.Aborted > 0:
		return withCode(exitFailure, nil)
	case t.Invalid > 0:
		return withCode(exitUsage, nil)
	}
	return nil
}

// isClosed reports whether c is closed, without blocking.
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// recordSink is a bulk.Sink whose Put reports that a record could not be
// written, which stops the run.
type recordSink func(bulk.Record) error

// Put writes r.
func (f recordSink) Put(r bulk.Record) error { return f(r) }
