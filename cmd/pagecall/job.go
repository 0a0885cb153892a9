package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/internal/bulk"
	"github.com/pplink/pagecall-go/internal/erasejob"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"
)

// jobFlags are the flags of a distributed erasure: users delete --job.
type jobFlags struct {
	name       string
	claimAfter time.Duration
	status     bool
	export     string
}

// jobHelp is the distributed erasure's part of users delete --help.
const jobHelp = `

Distributed erasure (--redis URL --job NAME): one erasure job shared
through Redis by processes on any number of machines. The first process
given --file loads the IDs into the job (a load cut short is resumed by
the next one given the same file); every process started with the same
--redis and --job, with or without --file, deletes IDs of the job until
every ID has its final record, and prints the records it made on stdout.
A worker that dies loses nothing: after --claim-after another worker
takes over the IDs it held; an ID is sent twice only if its worker died
after sending it and before recording it, and such a re-sent DELETE that
the API answers "not found" is recorded as deleted, with "resent": true.
With --redis, --rate is the rate of all the workers together.
  --status         print the job's progress and exit
  --export FILE    write every final record, as JSON Lines (the format of
                   --results), to FILE (- for stdout) and exit
A job name already used for other IDs (or another API key or base URL),
an unreachable Redis, or --job without --redis is refused with exit
status 2, and nothing in Redis changes.`

// register adds the flags to fs.
func (f *jobFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.name, "job", "", "run the erasure as job NAME shared through --redis by every process given the same NAME")
	fs.DurationVar(&f.claimAfter, "claim-after", 30*time.Second, "with --job: take over the IDs of a worker silent for this long")
	fs.BoolVar(&f.status, "status", false, "with --job: print the job's progress and exit")
	fs.StringVar(&f.export, "export", "", "with --job: write every final record as JSON Lines to this file (- for stdout) and exit")
}

// requested reports whether any job flag is set, so that users delete
// runs a job.
func (f *jobFlags) requested() bool {
	return f.name != "" || f.status || f.export != ""
}

// Bounds on each Redis operation of a job, and on the check at start.
const (
	jobRedisTimeout = 5 * time.Second
	jobPingTimeout  = 3 * time.Second
)

// runJob is users delete with --job: load, work, --status or --export.
func runJob(ctx context.Context, e *env, o *deleteOptions, args []string) error {
	f := &o.job
	url := o.fleet.redisURL(e) // --redis, the fleet's flag (fleet.go), names the job's Redis too
	switch {
	case f.name == "":
		return usageErrorf("--status and --export need --job NAME")
	case url == "":
		return usageErrorf("--job needs --redis URL (or $%s): the Redis that holds the job", envRedisURL)
	case len(args) > 0:
		return usageErrorf("with --job the IDs come from --file, not from arguments")
	case o.results != "" || o.resume:
		return usageErrorf("--job keeps the records in Redis: use --export FILE, not --results or --resume")
	case o.dryRun:
		return usageErrorf("--dry-run does not apply to --job; run it without --job to see what would be deleted")
	case f.claimAfter <= 0:
		return usageErrorf("--claim-after must be a positive duration, not %v", f.claimAfter)
	case (f.status || f.export != "") && o.file != "":
		return usageErrorf("--status and --export read the job; they take no --file")
	}
	rdb, err := jobRedis(ctx, url)
	if err != nil {
		return err
	}
	defer rdb.Close()
	job, err := erasejob.New(rdb, f.name)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if f.status || f.export != "" {
		return reportJob(ctx, e, job, f)
	}
	return workJob(ctx, e, o, job)
}

// jobRedis connects to the job's Redis. A URL that does not parse and a
// Redis that does not answer are configuration errors; neither error
// repeats the URL, which may hold a password.
func jobRedis(ctx context.Context, url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, usageErrorf("--redis (or $%s) is not a Redis URL such as redis://host:6379/0", envRedisURL)
	}
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = jobPingTimeout, jobRedisTimeout, jobRedisTimeout
	rdb := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, jobPingTimeout)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, usageErrorf("cannot reach Redis at %s: %v; nothing was changed", opts.Addr, err)
	}
	return rdb, nil
}

// recentWorkers is how far back --status looks for workers.
func recentWorkers(claimAfter time.Duration) time.Duration { return max(time.Minute, 2*claimAfter) }

// reportJob is --status and --export.
func reportJob(ctx context.Context, e *env, job *erasejob.Job, f *jobFlags) error {
	if f.status {
		s, err := job.Status(ctx, recentWorkers(f.claimAfter))
		if err != nil {
			return jobError(err)
		}
		if err := s.Format(e.Stdout); err != nil {
			return withCode(exitFailure, err)
		}
	}
	if f.export == "" {
		return nil
	}
	if _, err := job.Status(ctx, 0); err != nil { // before the file is created
		return jobError(err)
	}
	w := e.Stdout
	var file *os.File
	if f.export != "-" {
		var err error
		if file, err = os.OpenFile(f.export, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return withCode(exitUsage, fmt.Errorf("--export: %w", err))
		}
		defer file.Close()
		w = file
	}
	n, unfinished, err := job.Export(ctx, w)
	if err == nil && file != nil {
		err = file.Close()
	}
	if err != nil {
		return jobError(err)
	}
	fmt.Fprintf(e.Stderr, "pagecall: job %s: exported %d final records", job.Name(), n)
	if unfinished > 0 {
		fmt.Fprintf(e.Stderr, "; %d IDs have none yet (not exported)\n", unfinished)
		return withCode(exitFailure, nil)
	}
	fmt.Fprintln(e.Stderr)
	return nil
}

// jobError gives a job's error its exit status: 2 for a job that does not
// exist or is not this one, 1 for the rest.
func jobError(err error) error {
	switch {
	case errors.Is(err, erasejob.ErrNoJob):
		return withCode(exitUsage, fmt.Errorf("%w (the first process of a job needs --file)", err))
	case errors.Is(err, erasejob.ErrOtherIDs), errors.Is(err, erasejob.ErrOtherTarget), errors.Is(err, erasejob.ErrBadName):
		return withCode(exitUsage, err)
	}
	return withCode(exitFailure, err)
}

// workJob loads --file, if given, then works on the job until it is done.
func workJob(ctx context.Context, e *env, o *deleteOptions, job *erasejob.Job) error {
	log := newLogger(e.Stderr, o.verbose)
	var extra []pagecall.Option
	if o.rate > 0 {
		extra = append(extra, pagecall.WithRateLimit(o.rate, 1))
	}
	c, err := o.newClient(e, log, extra...)
	if err != nil {
		return err
	}
	key, _, err := loadAPIKey(e, o.apiKeyFile)
	if err != nil {
		return withCode(exitUsage, err)
	}
	target := erasejob.Target(c.BaseURL(), key)
	start := time.Now()
	if o.file != "" {
		if err := loadJob(ctx, e, job, o.file, target); err != nil {
			return err
		}
	}
	host, _ := os.Hostname()
	consumer := erasejob.ConsumerName(host, os.Getpid(), strings.ToLower(rand.Text()[:8]))

	ctx, sw := watchSignals(ctx, e.Signals, e.Stderr, "taking no new IDs, waiting for those in flight; press Ctrl-C again to abort")
	defer sw.Release()
	var out sync.Mutex // OnFinal is called one at a time; this guards stdout's error
	var outErr error
	res, err := job.Work(ctx, erasejob.WorkOptions{
		Consumer:    consumer,
		Concurrency: o.concurrency,
		ClaimAfter:  o.job.claimAfter,
		Target:      target,
		Stop:        sw.Stopped(),
		Delete: func(ctx context.Context, it erasejob.Item) (erasejob.Final, bool) {
			return deleteJobItem(ctx, c, it)
		},
		OnFinal: func(_ erasejob.Item, f erasejob.Final, recorded bool) {
			out.Lock()
			defer out.Unlock()
			if recorded && outErr == nil {
				_, outErr = e.Stdout.Write(append(f.Record, '\n'))
			}
		},
	})
	sw.Release()
	if err != nil {
		return jobError(err)
	}
	s, serr := job.Status(context.WithoutCancel(ctx), 0)
	fmt.Fprintln(e.Stderr, jobSummary(job.Name(), res, s, serr, time.Since(start), sw.Interrupted()))
	switch {
	case sw.Interrupted():
		return withCode(exitInterrupted, nil)
	case outErr != nil:
		return withCode(exitFailure, fmt.Errorf("write results: %w", outErr))
	case serr != nil:
		return withCode(exitFailure, serr)
	case s.Outcomes[bulk.OutcomeFailed] > 0:
		return withCode(exitFailure, nil)
	case s.Outcomes[bulk.OutcomeInvalid] > 0:
		return withCode(exitUsage, nil)
	}
	return nil
}

// jobSummary is the line a worker prints on stderr at the end.
func jobSummary(name string, res erasejob.WorkResult, s erasejob.Status, serr error, d time.Duration, interrupted bool) string {
	var b strings.Builder
	if interrupted {
		b.WriteString("interrupted: ")
	}
	fmt.Fprintf(&b, "job %s: this worker deleted %d, failed %d", name, res.Recorded[bulk.OutcomeDeleted], res.Recorded[bulk.OutcomeFailed])
	if res.Resent > 0 {
		fmt.Fprintf(&b, " (%d re-sent after a worker died)", res.Resent)
	}
	fmt.Fprintf(&b, " in %.1fs", d.Seconds())
	if serr != nil {
		return b.String()
	}
	fmt.Fprintf(&b, "; the job: deleted %d, failed %d, invalid %d of %d",
		s.Outcomes[bulk.OutcomeDeleted], s.Outcomes[bulk.OutcomeFailed], s.Outcomes[bulk.OutcomeInvalid], s.IDs)
	if s.Done() {
		b.WriteString(", done")
	} else {
		fmt.Fprintf(&b, ", %d to do", s.InFlight+s.Waiting)
	}
	return b.String()
}

// loadJob loads the IDs of file into the job (creating it), or checks that
// the job holds them. It reads the file twice: once for the fingerprint,
// then to load; standard input is first copied to a temporary file.
func loadJob(ctx context.Context, e *env, job *erasejob.Job, file, target string) error {
	if file == "-" {
		if e.Stdin == nil {
			return usageErrorf("--file -: no standard input")
		}
		tmp, err := os.CreateTemp("", "pagecall-job-*.txt")
		if err != nil {
			return withCode(exitFailure, err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(tmp, e.Stdin); err != nil {
			return withCode(exitUsage, fmt.Errorf("read stdin: %w", err))
		}
		file = tmp.Name()
	}
	lines := fileLines(file)
	fp, err := erasejob.Fingerprint(lines)
	if err != nil {
		return withCode(exitUsage, err)
	}
	res, err := job.Load(ctx, lines, erasejob.LoadOptions{
		Fingerprint: fp,
		Target:      target,
		Invalid:     invalidRecord,
	})
	if err != nil {
		return jobError(err)
	}
	verb := "loaded"
	if res.Created {
		verb = "created; loaded"
	}
	fmt.Fprintf(e.Stderr, "pagecall: job %s: %s %d IDs (%d duplicate lines, %d invalid IDs)", job.Name(), verb, res.Queued+res.Invalid, res.Duplicates, res.Invalid)
	if res.Skipped > 0 {
		fmt.Fprintf(e.Stderr, "; %d lines were loaded before", res.Skipped)
	}
	fmt.Fprintln(e.Stderr)
	return nil
}

// fileLines is the job's input: the IDs of file, one per line, with the
// rules of --file (bulk.ScanLines), streamed so that memory does not grow
// with the file.
func fileLines(file string) erasejob.Lines {
	return func(fn func(int64, string) error) error {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		return bulk.ScanLines(f, file, func(line int64, id []byte) error { return fn(line, string(id)) })
	}
}

// invalidRecord is the final record of an ID that must not be sent, or nil
// for a valid one.
func invalidRecord(line int64, id string) []byte {
	err := pagecall.ValidateUserID(id)
	if err == nil {
		return nil
	}
	return encodeRecord(bulk.Record{ID: id, Line: line, Outcome: bulk.OutcomeInvalid, Error: err.Error()})
}

// encodeRecord is r as one line of JSON, without the line end.
func encodeRecord(r bulk.Record) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r) // a record always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// deleteJobItem deletes one ID of a job. A DELETE that a worker which died
// had most likely sent already (the item is redelivered), answered "user
// not found", is recorded as deleted and marked as a re-send. An aborted
// DELETE has no final record: the ID stays with the job.
func deleteJobItem(ctx context.Context, d bulk.Deleter, it erasejob.Item) (erasejob.Final, bool) {
	ec := &errCatcher{d: d}
	r := bulk.DeleteOne(ctx, ec, bulk.Item{ID: it.ID, Line: it.Line})
	if r.Outcome == bulk.OutcomeAborted {
		return erasejob.Final{}, false
	}
	if it.Redelivered && r.Outcome == bulk.OutcomeFailed && userGone(ec.err) {
		r.Outcome, r.Error, r.Resent = bulk.OutcomeDeleted, "", true
	}
	return erasejob.Final{Outcome: r.Outcome, Resent: r.Resent, Record: encodeRecord(r)}, true
}

// userGone reports whether err is the API's answer that the user does not
// exist: a 404, or a 400 whose message says "not found" (Pagecall declares
// no 404; the mock, like the API, answers "user not found").
func userGone(err error) bool {
	var (
		apiErr *pagecall.APIError
		reqErr *pagecall.RequestError
	)
	if !errors.As(err, &apiErr) && !(errors.As(err, &reqErr) && errors.As(reqErr.Last, &apiErr)) {
		return false
	}
	switch apiErr.StatusCode {
	case http.StatusNotFound:
		return true
	case http.StatusBadRequest:
		return strings.Contains(strings.ToLower(apiErr.Message), "not found")
	}
	return false
}

// errCatcher is a deleter that keeps the error of its one call, for the
// cases where the record alone does not tell enough.
type errCatcher struct {
	d   bulk.Deleter
	err error
}

// DeleteUser calls the wrapped deleter and keeps its error.
func (c *errCatcher) DeleteUser(ctx context.Context, id string, opts ...pagecall.CallOption) (*pagecall.User, error) {
	u, err := c.d.DeleteUser(ctx, id, opts...)
	c.err = err
	return u, err
}
