package pagecall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds the two client-wide brakes on new attempts: the pause
// that a 429 or 503 with Retry-After puts on every call of the client, and
// the proactive rate limit of WithRateLimit. The request loop passes
// through gate before every attempt, the first included.

// pause is the client-wide wait a Retry-After asks for. A server that
// answers 429 ("slow down") or 503 with Retry-After tells the client when
// to come back; every call of the client waits that long, not only the one
// that got the answer, so that calls starting during the wait do not spend
// their attempts on certain refusals.
type pause struct {
	// end is until in Unix nanoseconds, 0 before the first pause: the
	// lock-free test every attempt makes.
	end   atomic.Int64
	mu    sync.Mutex
	until time.Time // zero when there has never been a pause
	cause *APIError // the answer that asked for it
}

// hold extends the pause to wait from now, capped at max, for the answer
// cause; a pause already longer is kept. A wait of zero or less, or a cause
// that is not an *APIError, holds nothing.
func (p *pause) hold(ctx context.Context, log *slog.Logger, wait, max time.Duration, cause error) {
	var apiErr *APIError
	if wait <= 0 || !errors.As(cause, &apiErr) {
		return
	}
	wait = min(wait, max)
	until := time.Now().Add(wait)
	p.mu.Lock()
	extended := until.After(p.until)
	if extended {
		p.until, p.cause = until, apiErr
		p.end.Store(until.UnixNano())
	}
	p.mu.Unlock()
	if extended {
		log.DebugContext(ctx, "pagecall: server asked to wait; pausing every request of this client",
			"status", apiErr.StatusCode, "wait", wait, "until", until)
	}
}

// state returns when the pause ends and the answer that asked for it.
func (p *pause) state() (time.Time, *APIError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.until, p.cause
}

// wait returns once the pause is over. A call whose deadline ends first
// fails at once with a copy of the answer that asked for the pause, naming
// this call's request (attempts is the number it sent so far); cancelling
// ctx ends the wait with a *RequestError.
func (p *pause) wait(ctx context.Context, log *slog.Logger, cl *call, method, path string, attempts int) error {
	for {
		if end := p.end.Load(); end == 0 || end <= time.Now().UnixNano() {
			return nil
		}
		until, cause := p.state()
		d := time.Until(until)
		if d <= 0 {
			return nil
		}
		if deadline, ok := ctx.Deadline(); ok && deadline.Before(until) {
			log.DebugContext(ctx, "pagecall: the deadline ends before the client-wide pause; failing now",
				"method", method, "path", path, "pause_left", d)
			cl.paused(attempts+1, d, cause.StatusCode, true)
			e := *cause
			e.Method, e.Path, e.Attempts, e.RetryAfter = method, path, attempts, d
			e.Header = cause.Header.Clone()
			return &e
		}
		log.DebugContext(ctx, "pagecall: waiting for the client-wide pause", "method", method, "path", path, "wait", d)
		cl.paused(attempts+1, d, cause.StatusCode, false)
		if err := sleep(ctx, d); err != nil {
			return &RequestError{Method: method, Path: path, Attempts: attempts, Err: err, Last: cause}
		}
		// The pause may have been extended meanwhile: look again.
	}
}

// gate holds attempt number attempt of a call until the client-wide pause
// is over and the rate limiter lets it go. Its error ends the call.
func (l *requestLoop) gate(ctx context.Context, cl *call, method, path string, attempt int) error {
	if err := l.pause.wait(ctx, l.log, cl, method, path, attempt-1); err != nil {
		return err
	}
	if l.limiter == nil {
		return nil
	}
	if err := l.limiter.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		} else {
			// x/time/rate refuses at once a wait that would outlast the
			// deadline, with an error of its own; say it as a deadline.
			err = fmt.Errorf("%w: the rate limit (WithRateLimit) would hold the request past the deadline", context.DeadlineExceeded)
		}
		return &RequestError{Method: method, Path: path, Attempts: attempt - 1, Err: err}
	}
	// A pause that began while this call waited for the limiter holds it too.
	return l.pause.wait(ctx, l.log, cl, method, path, attempt-1)
}

// pausedUntil returns when the client-wide pause ends, or the zero time if
// it is over.
func (p *pause) pausedUntil() time.Time {
	until, _ := p.state()
	if !until.After(time.Now()) {
		return time.Time{}
	}
	return until
}
