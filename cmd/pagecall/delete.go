package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// maxConcurrency bounds --concurrency: more parallel deletions than this
// only trip the API's rate limits.
const maxConcurrency = 64

// Outcomes of one ID in the JSON Lines output of a bulk delete.
const (
	outcomeDeleted    = "deleted"     // the API deleted the user
	outcomeFailed     = "failed"      // the API refused, or the network failed
	outcomeInvalid    = "invalid"     // "", "." or "..": never sent
	outcomeDryRun     = "dry_run"     // --dry-run: would be deleted, nothing sent
	outcomeNotStarted = "not_started" // interrupted before its turn: never sent
	outcomeAborted    = "aborted"     // in flight at a second interrupt: unknown
)

// record is one line of the JSON Lines output of a bulk delete.
type record struct {
	ID       string `json:"id"`
	Outcome  string `json:"outcome"`
	Status   int    `json:"status,omitempty"` // HTTP status of the last answer, if any
	Attempts int    `json:"attempts"`         // requests sent for the ID, retries included
	Error    string `json:"error,omitempty"`
	// Drift lists where the 2xx answer left the spec: the user was
	// deleted all the same (see docs/RELIABILITY.md).
	Drift []string `json:"drift,omitempty"`
	// Resent: a DELETE that a worker of a --job which died had most
	// likely sent; its "not found" answer counts as deleted (job.go).
	Resent bool `json:"resent,omitempty"`
}

// deleter is the part of *pagecall.Client that deleting needs.
type deleter interface {
	DeleteUser(ctx context.Context, id string, opts ...pagecall.CallOption) (*pagecall.User, error)
}

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
  {"id":"…","outcome":"deleted","status":200,"attempts":1}
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
FILE already records as deleted and appends this run's records to it;
a torn last line, which only a power cut can leave, is dropped. The up
to --concurrency IDs that were in flight when a run died are sent again:
those the dead run had deleted now fail with the API's "user not found".

--file reads IDs one per line (- reads stdin): surrounding white space is
trimmed, blank lines and lines starting with # are skipped. An ID given
more than once, in the arguments or the file, is deleted once.

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
	list, err := collectIDs(e, o.file, args)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if o.dryRun {
		return dryRun(e, list)
	}
	log := newLogger(e.Stderr, o.verbose)
	var extra []pagecall.Option
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
	var results *resultsFile
	if o.results != "" {
		if results, err = openResults(o.results, o.resume); err != nil {
			return withCode(exitUsage, err)
		}
		defer results.Close()
		if results.dropped > 0 {
			fmt.Fprintf(e.Stderr, "pagecall: %s: dropped a torn last line (%d bytes)\n", o.results, results.dropped)
		}
		list = results.skipDone(list)
	}
	return deleteBulk(ctx, e, c, list, o.concurrency, e.StderrIsTerminal && !o.verbose, results)
}

// collectIDs reads the IDs from args and the --file source, if any.
func collectIDs(e *env, file string, args []string) (idList, error) {
	switch file {
	case "":
		return readIDs(args, nil, "")
	case "-":
		if e.Stdin == nil {
			return idList{}, errors.New("--file -: no standard input")
		}
		return readIDs(args, e.Stdin, "stdin")
	}
	f, err := os.Open(file)
	if err != nil {
		return idList{}, err
	}
	defer f.Close()
	return readIDs(args, f, file)
}

// deleteSingle deletes one user and prints it as JSON.
func deleteSingle(ctx context.Context, e *env, c deleter, id string) error {
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
func dryRun(e *env, list idList) error {
	start := time.Now()
	out := newRecordWriter(e.Stdout)
	var t tally
	for _, id := range list.IDs {
		r := record{ID: id, Outcome: outcomeDryRun}
		if err := pagecall.ValidateUserID(id); err != nil {
			r = record{ID: id, Outcome: outcomeInvalid, Error: err.Error()}
		}
		t.add(r)
		out.write(r)
	}
	fmt.Fprintln(e.Stderr, t.summary(true, list.Duplicates, time.Since(start), false))
	if err := out.err; err != nil {
		return withCode(exitFailure, fmt.Errorf("write results: %w", err))
	}
	return t.exitError(false)
}

// deleteBulk deletes the IDs concurrency at a time, printing one record per
// ID as it finishes and a summary at the end.
func deleteBulk(ctx context.Context, e *env, c deleter, list idList, concurrency int, showBar bool, results *resultsFile) error {
	start := time.Now()
	ctx, sw := watchSignals(ctx, e.Signals, e.Stderr, "starting no new deletions, waiting for those in flight; press Ctrl-C again to abort")
	defer sw.Release()

	var bar *progressbar.ProgressBar
	if showBar && len(list.IDs) > 0 {
		bar = progressbar.NewOptions(len(list.IDs),
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
	out := newRecordWriter(e.Stdout)
	var t tally
	deleteAll(ctx, sw.Stopped(), c, list.IDs, concurrency, func(r record) {
		t.add(r)
		results.write(r)
		out.write(r)
		if bar != nil {
			_ = bar.Add(1)
		}
	})
	sw.Release()
	if bar != nil {
		_ = bar.Finish() // clears the bar: OptionClearOnFinish
	}
	t.resumed = list.Done
	fmt.Fprintln(e.Stderr, t.summary(false, list.Duplicates, time.Since(start), sw.Interrupted()))
	if err := results.Close(); err != nil {
		return withCode(exitFailure, fmt.Errorf("write %s: %w", results.name, err))
	}
	if err := out.err; err != nil {
		return withCode(exitFailure, fmt.Errorf("write results: %w", err))
	}
	return t.exitError(sw.Interrupted())
}

// deleteAll deletes ids with up to workers deletions in flight, calling emit
// (from this goroutine only) with each ID's record as it is known. Once stop
// is closed it starts no further deletion: the IDs not yet started are
// emitted as not_started. Cancelling ctx aborts the deletions in flight.
// Every ID is emitted exactly once and sent at most once (retries aside).
func deleteAll(ctx context.Context, stop <-chan struct{}, d deleter, ids []string, workers int, emit func(record)) {
	jobs := make(chan string) // unbuffered: a job taken is a job started
	results := make(chan record)
	var wg sync.WaitGroup
	for range min(workers, len(ids)) {
		wg.Go(func() {
			for id := range jobs {
				results <- deleteOne(ctx, stop, d, id)
			}
		})
	}
	go func() {
		defer func() {
			close(jobs)
			wg.Wait()
			close(results)
		}()
		for _, id := range ids {
			if err := pagecall.ValidateUserID(id); err != nil {
				results <- record{ID: id, Outcome: outcomeInvalid, Error: err.Error()}
				continue
			}
			if isClosed(stop) {
				results <- notStarted(id)
				continue
			}
			select {
			case jobs <- id:
			case <-stop:
				results <- notStarted(id)
			}
		}
	}()
	for r := range results {
		emit(r)
	}
}

// deleteOne deletes one user and describes the result.
func deleteOne(ctx context.Context, stop <-chan struct{}, d deleter, id string) record {
	if isClosed(stop) {
		// Stopped between handing out the job and starting it.
		return notStarted(id)
	}
	var info pagecall.ResponseInfo
	_, err := d.DeleteUser(ctx, id, pagecall.WithResponseInfo(&info))
	if err == nil {
		// A deleter that fills no info (a test's fake) answered as the
		// spec's one success status.
		r := record{ID: id, Outcome: outcomeDeleted, Status: cmp.Or(info.StatusCode, http.StatusOK), Attempts: info.Attempts}
		for _, fd := range info.Drift {
			r.Drift = append(r.Drift, fd.String())
		}
		return r
	}
	r := record{ID: id, Outcome: outcomeFailed, Attempts: info.Attempts, Error: err.Error()}
	var (
		apiErr *pagecall.APIError
		reqErr *pagecall.RequestError
	)
	switch {
	case errors.Is(err, pagecall.ErrInvalidUserID):
		r.Outcome = outcomeInvalid
	case errors.As(err, &apiErr):
		r.Status = apiErr.StatusCode
	case errors.As(err, &reqErr) && errors.As(reqErr.Last, &apiErr):
		r.Status = apiErr.StatusCode
	}
	if ctx.Err() != nil && r.Outcome == outcomeFailed {
		r.Outcome = outcomeAborted
		r.Error = "aborted by a second interrupt; the user may or may not have been deleted: " + r.Error
	}
	return r
}

func notStarted(id string) record {
	return record{ID: id, Outcome: outcomeNotStarted, Error: "interrupted before it started; not sent"}
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

// recordWriter writes records as JSON Lines and keeps the first error.
type recordWriter struct {
	enc *json.Encoder
	err error
}

func newRecordWriter(w io.Writer) *recordWriter {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &recordWriter{enc: enc}
}

func (w *recordWriter) write(r record) {
	if w.err == nil {
		w.err = w.enc.Encode(r)
	}
}

// tally counts the records of a run by outcome.
type tally struct {
	total, deleted, failed, invalid, dryRun, notStarted, aborted int
	resumed                                                      int // skipped: deleted by the run resumed
}

func (t *tally) add(r record) {
	t.total++
	switch r.Outcome {
	case outcomeDeleted:
		t.deleted++
	case outcomeFailed:
		t.failed++
	case outcomeInvalid:
		t.invalid++
	case outcomeDryRun:
		t.dryRun++
	case outcomeNotStarted:
		t.notStarted++
	case outcomeAborted:
		t.aborted++
	}
}

// summary is the line printed on stderr at the end of a run, e.g.
// "deleted 4, failed 1, invalid 0 of 5 in 1.2s".
func (t *tally) summary(dry bool, duplicates int, d time.Duration, interrupted bool) string {
	var b strings.Builder
	if interrupted {
		b.WriteString("interrupted: ")
	}
	if dry {
		fmt.Fprintf(&b, "dry run: would delete %d, invalid %d of %d; nothing sent", t.dryRun, t.invalid, t.total)
	} else {
		fmt.Fprintf(&b, "deleted %d, failed %d, invalid %d", t.deleted, t.failed, t.invalid)
		if t.notStarted > 0 {
			fmt.Fprintf(&b, ", not started %d", t.notStarted)
		}
		if t.aborted > 0 {
			fmt.Fprintf(&b, ", aborted %d", t.aborted)
		}
		fmt.Fprintf(&b, " of %d in %.1fs", t.total, d.Seconds())
	}
	if t.resumed > 0 {
		fmt.Fprintf(&b, " (%d already deleted, skipped by --resume)", t.resumed)
	}
	switch duplicates {
	case 0:
	case 1:
		b.WriteString(" (1 duplicate ID skipped)")
	default:
		fmt.Fprintf(&b, " (%d duplicate IDs skipped)", duplicates)
	}
	return b.String()
}

// exitError maps the tally to the command's exit status: interrupted 130,
// else any failure 1, else any invalid ID 2, else 0. The records and the
// summary already told the details, so the error prints nothing more.
func (t *tally) exitError(interrupted bool) error {
	switch {
	case interrupted:
		return withCode(exitInterrupted, nil)
	case t.failed > 0 || t.aborted > 0:
		return withCode(exitFailure, nil)
	case t.invalid > 0:
		return withCode(exitUsage, nil)
	}
	return nil
}
