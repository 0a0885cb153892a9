package bulk

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/pplink/pagecall-go"
)

// Item is one ID to work on, and where the input had it.
type Item struct {
	ID string
	// Line is the ID's line in the input file (from 1), 0 for an argument.
	Line int64
}

// Source is a stream of Items. Next returns io.EOF after the last one.
// Plan is the Source of a local run; a Source must not yield an ID twice.
type Source interface {
	Next(ctx context.Context) (Item, error)
}

// Sink takes the final Record of each Item, from one goroutine at a time.
// An error stops the run: it starts no new deletion, and the Items not
// yet taken from the Source stay there.
type Sink interface {
	Put(Record) error
}

// SinkFunc is a Sink that cannot fail.
type SinkFunc func(Record)

// Put calls f(r).
func (f SinkFunc) Put(r Record) error { f(r); return nil }

// Deleter is the part of *pagecall.Client that deleting needs.
type Deleter interface {
	DeleteUser(ctx context.Context, id string, opts ...pagecall.CallOption) (*pagecall.User, error)
}

// DryRun puts, for each Item of src, the record of what a run would do
// with it (dry_run, or invalid), sending nothing.
func DryRun(ctx context.Context, src Source, sink Sink) error {
	for {
		it, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		r := Record{ID: it.ID, Line: it.Line, Outcome: OutcomeDryRun}
		if err := pagecall.ValidateUserID(it.ID); err != nil {
			r = invalid(it, err)
		}
		if err := sink.Put(r); err != nil {
			return err
		}
	}
}

// Run deletes the Items of src with up to workers deletions in flight,
// putting each Item's record into sink as soon as it is known. Once stop
// is closed it starts no further deletion: the Items not yet started are
// put as not_started. Cancelling ctx aborts the deletions in flight.
//
// Every Item taken from src gets exactly one record, and is sent at most
// once (retries aside), unless the sink fails: then the Item the feeder
// holds at that moment gets no record and is not sent (a shared job's
// source keeps it pending for another worker). Run returns the first error
// of src or sink, after the deletions in flight have finished and been put.
func Run(ctx context.Context, stop <-chan struct{}, d Deleter, src Source, workers int, sink Sink) error {
	workers = max(workers, 1)
	jobs := make(chan Item) // unbuffered: a job taken is a job started
	results := make(chan Record)
	halt := make(chan struct{}) // closed when the sink fails
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for it := range jobs {
				results <- deleteOne(ctx, stop, d, it)
			}
		})
	}
	var srcErr error
	go func() {
		defer func() {
			close(jobs)
			wg.Wait()
			close(results)
		}()
		srcErr = feed(ctx, stop, halt, src, jobs, results)
	}()
	var sinkErr error
	for r := range results {
		if sinkErr != nil {
			continue // a record of an Item in flight: nowhere to put it
		}
		if sinkErr = sink.Put(r); sinkErr != nil {
			close(halt)
		}
	}
	return errors.Join(sinkErr, srcErr)
}

// feed hands the Items of src to the workers, and answers itself those
// that need no request: invalid IDs, and every Item after stop.
func feed(ctx context.Context, stop, halt <-chan struct{}, src Source, jobs chan<- Item, results chan<- Record) error {
	for {
		if isClosed(halt) {
			return nil
		}
		it, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := pagecall.ValidateUserID(it.ID); err != nil {
			results <- invalid(it, err)
			continue
		}
		if isClosed(stop) {
			results <- notStarted(it)
			continue
		}
		select {
		case jobs <- it:
		case <-stop:
			results <- notStarted(it)
		case <-halt:
			return nil
		}
	}
}

func invalid(it Item, err error) Record {
	return Record{ID: it.ID, Line: it.Line, Outcome: OutcomeInvalid, Error: err.Error()}
}

// DeleteOne deletes the user of one Item and returns its record, as Run
// does for each Item: for a pool of workers other than Run's (a
// distributed job's).
func DeleteOne(ctx context.Context, d Deleter, it Item) Record { return deleteOne(ctx, nil, d, it) }

// deleteOne deletes one user and describes the result.
func deleteOne(ctx context.Context, stop <-chan struct{}, d Deleter, it Item) Record {
	if isClosed(stop) {
		// Stopped between handing out the job and starting it.
		return notStarted(it)
	}
	var info pagecall.ResponseInfo
	callCtx, last := withLastStatus(ctx)
	_, err := d.DeleteUser(callCtx, it.ID, pagecall.WithResponseInfo(&info))
	if err == nil {
		// A deleter that fills no info (a test's fake) answered as the
		// spec's one success status.
		r := Record{ID: it.ID, Line: it.Line, Outcome: OutcomeDeleted, Status: cmp.Or(info.StatusCode, http.StatusOK), Attempts: info.Attempts}
		for _, fd := range info.Drift {
			r.Drift = append(r.Drift, fd.String())
		}
		return r
	}
	r := Record{ID: it.ID, Line: it.Line, Outcome: OutcomeFailed, Attempts: info.Attempts, Error: err.Error()}
	var (
		apiErr *pagecall.APIError
		reqErr *pagecall.RequestError
	)
	switch {
	case errors.Is(err, pagecall.ErrInvalidUserID):
		r.Outcome = OutcomeInvalid
	case errors.As(err, &apiErr):
		r.Status = apiErr.StatusCode
	case errors.As(err, &reqErr) && errors.As(reqErr.Last, &apiErr):
		r.Status = apiErr.StatusCode
	}
	if r.Status == 0 {
		// The last attempt got no answer (a timeout after a 503): keep
		// the status of the last answer that came (see StatusHooks).
		r.Status = cmp.Or(info.StatusCode, int(last.Load()))
	}
	if ctx.Err() != nil && r.Outcome == OutcomeFailed {
		r.Outcome = OutcomeAborted
		r.Error = "aborted by a second interrupt; the user may or may not have been deleted: " + r.Error
	}
	return r
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
