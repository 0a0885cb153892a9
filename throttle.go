package pagecall

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds the two client-wide brakes on new attempts: the pause
// that a 429 or 503 with Retry-After puts on every call of the client, and
// the proactive rate limit of WithRateLimit. The request loop's gate
// passes through them before every attempt, the first included.

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
// that is not an *APIError, holds nothing (held false). It returns the end
// the answer asked for and its status.
func (p *pause) hold(ctx context.Context, log *slog.Logger, wait, max time.Duration, cause error) (until time.Time, status int, held bool) {
	var apiErr *APIError
	if wait <= 0 || !errors.As(cause, &apiErr) {
		return time.Time{}, 0, false
	}
	until = time.Now().Add(min(wait, max))
	p.holdUntil(ctx, log, until, apiErr)
	return until, apiErr.StatusCode, true
}

// holdUntil extends the pause to until for the answer cause; a pause
// already longer is kept.
func (p *pause) holdUntil(ctx context.Context, log *slog.Logger, until time.Time, cause *APIError) {
	p.mu.Lock()
	extended := until.After(p.until)
	if extended {
		p.until, p.cause = until, cause
		p.end.Store(until.UnixNano())
	}
	p.mu.Unlock()
	if extended {
		log.DebugContext(ctx, "pagecall: server asked to wait; pausing every request of this client",
			"status", cause.StatusCode, "until", until)
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
			cl.paused(ctx, attempts+1, d, cause.StatusCode, true)
			e := *cause
			e.Method, e.Path, e.Attempts, e.RetryAfter = method, path, attempts, d
			e.Header = cause.Header.Clone()
			return &e
		}
		log.DebugContext(ctx, "pagecall: waiting for the client-wide pause", "method", method, "path", path, "wait", d)
		cl.paused(ctx, attempts+1, d, cause.StatusCode, false)
		if err := sleep(ctx, d); err != nil {
			return &RequestError{Method: method, Path: path, Attempts: attempts, Err: err, Last: cause}
		}
		// The pause may have been extended meanwhile: look again.
	}
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
