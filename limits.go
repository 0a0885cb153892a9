package pagecall

import (
	"context"
	"time"
)

// PLACEHOLDER (fleet branch): the declarations of /work/FLEET-INTERFACE.md,
// so that package pagecallredis compiles before the core helper's limits.go
// is merged. WithSharedLimits is a stub here; take main's limits.go once
// core's work is merged.

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
	return func(*settings) {} // PLACEHOLDER: core's limits.go replaces it
}

// SharedLimitsEvent reports a change in whether the shared limits answer.
type SharedLimitsEvent struct {
	Reachable bool
	Err       error // why they became unreachable; nil when Reachable
}
