package pagecall

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// This file holds the extension point for limits shared by many processes
// (WithSharedLimits): what the request loop asks of them, and how it falls
// back to the client's own limits when they cannot be reached.

// SharedLimits is the state that clients in many processes share for one API
// key: the rate, the pause that a 429 (or a 503 with Retry-After) asks for,
// and the retry budget. pagecallredis implements it on Redis.
//
// Every method is bounded in time by the implementation. An error that is not
// ctx's own means the shared state could not be reached: the client then uses
// its local rate limit, pause and budget for that step, and the call goes on.
type SharedLimits interface {
	// Wait blocks until the fleet's rate admits one more attempt, or ctx ends.
	// Without a fleet rate it returns nil at once.
	Wait(ctx context.Context) error
	// PausedUntil returns when the fleet-wide pause ends (the zero time when
	// none holds) and the HTTP status that asked for it. It must not block
	// or do I/O: it returns what the implementation last learned.
	PausedUntil() (until time.Time, status int)
	// Pause tells the fleet to hold new attempts until until, as asked by an
	// answer of status (429, or 503 with Retry-After).
	Pause(ctx context.Context, until time.Time, status int) error
	// Spend takes cost tokens from the fleet's retry budget before a retry.
	// ok is false when fewer than cost are left (the retry is refused).
	Spend(ctx context.Context, cost int64) (ok bool, err error)
	// Refund gives n tokens back to the fleet's budget, capped at its
	// capacity: what a call's failed attempts took, once it got an answer,
	// or the reward of a call that succeeded at once. It must not block the
	// call: an implementation may batch refunds and apply them later.
	Refund(n int64)
}

// WithSharedLimits makes the client share its rate, pause and retry budget
// with every client built with the same SharedLimits scope. newLimits is
// called once by NewClient with scope, a stable name derived from a hash of
// the base URL and the API key (never the key itself): 32 lowercase hex
// characters.
func WithSharedLimits(newLimits func(scope string) SharedLimits) Option {
	return func(s *settings) { s.sharedLimits = newLimits }
}

// SharedLimitsEvent reports a change in whether the shared limits answer.
type SharedLimitsEvent struct {
	Reachable bool
	Err       error // why they became unreachable; nil when Reachable
}

// sharedScope names the state shared by the clients of one base URL and
// API key, without the key: the first 16 bytes of a SHA-256, in hex.
func sharedScope(baseURL, apiKey string) string {
	sum := sha256.Sum256([]byte("pagecall-go shared limits\x00" + baseURL + "\x00" + apiKey))
	return hex.EncodeToString(sum[:16])
}

// shared is a client's SharedLimits with its health: the first failure
// after a success logs one warning and tells the hooks, and so does the
// first success after a failure. No call fails because of it.
type shared struct {
	lim   SharedLimits
	down  atomic.Bool // the last step failed to reach the shared state
	log   *slog.Logger
	hooks *hookSet
}

// newShared calls newLimits with the client's scope; nil when the client
// has no shared limits.
func newShared(newLimits func(string) SharedLimits, baseURL, apiKey string, log *slog.Logger, hooks *hookSet) *shared {
	if newLimits == nil {
		return nil
	}
	lim := newLimits(sharedScope(baseURL, apiKey))
	if lim == nil {
		return nil
	}
	return &shared{lim: lim, log: log, hooks: hooks}
}

// failed notes that a step could not reach the shared state, unless err is
// the call's own context ending. It reports whether the step falls back to
// the client's own limits.
func (s *shared) failed(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if s.down.CompareAndSwap(false, true) {
		s.log.WarnContext(ctx, "pagecall: shared limits unreachable; using this client's own limits", "error", err)
		s.tell(ctx, SharedLimitsEvent{Err: err})
	}
	return true
}

// reached notes that a step reached the shared state.
func (s *shared) reached(ctx context.Context) {
	if s.down.Load() && s.down.CompareAndSwap(true, false) {
		s.log.InfoContext(ctx, "pagecall: shared limits reachable again")
		s.tell(ctx, SharedLimitsEvent{Reachable: true})
	}
}

// tell runs the hooks' SharedLimits.
func (s *shared) tell(ctx context.Context, e SharedLimitsEvent) {
	if s.hooks == nil {
		return
	}
	for _, h := range s.hooks.list {
		if h.SharedLimits != nil {
			h.SharedLimits(ctx, e)
		}
	}
}

// wait waits for the fleet's rate. Its error is the call's context ending;
// an unreachable shared state admits the attempt.
func (s *shared) wait(ctx context.Context) error {
	err := s.lim.Wait(ctx)
	switch {
	case err == nil:
		s.reached(ctx)
	case s.failed(ctx, err):
		return nil
	default:
		return context.Cause(ctx)
	}
	return nil
}

// pause tells the fleet to hold new attempts until until.
func (s *shared) pause(ctx context.Context, until time.Time, status int) {
	if err := s.lim.Pause(ctx, until, status); err != nil {
		s.failed(ctx, err)
		return
	}
	s.reached(ctx)
}

// spend asks the fleet's budget for cost tokens before a retry; local is
// what the client's own budget decided, which stands when the fleet's
// cannot be reached.
func (s *shared) spend(ctx context.Context, hold *budgetHold, cost int64, local bool) bool {
	ok, err := s.lim.Spend(ctx, cost)
	if err != nil {
		s.failed(ctx, err)
		return local
	}
	s.reached(ctx)
	if ok {
		hold.shared += cost
	}
	return ok
}

// refund gives the fleet's budget back what this call took from it, or
// the reward of a call answered without a failure.
func (s *shared) refund(hold *budgetHold) {
	n := hold.shared
	if n == 0 {
		n = budgetReward
	}
	hold.shared = 0
	s.lim.Refund(n)
}

// fleetPause is the answer that stands for a pause another client of the
// fleet was asked for, so that the client-wide pause can hold (and a call
// whose deadline ends first can fail with) it.
func fleetPause(status int) *APIError {
	if status == 0 {
		status = http.StatusTooManyRequests
	}
	return &APIError{StatusCode: status, Message: "another client sharing these limits was told to wait (WithSharedLimits)"}
}
