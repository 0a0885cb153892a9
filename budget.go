package pagecall

import (
	"errors"
	"net"
	"sync/atomic"
)

// The retry budget: a client-wide quota of retry credits that lets a client
// retry through a burst of failures and stops it from multiplying the load
// on an API that is down. An attempt that fails in a way worth retrying
// takes a cost; a retry is sent only if the cost could be taken; a call the
// service answers in the end gives back what its failures took, and one
// answered at once adds a reward. First attempts are never refused.
// docs/RELIABILITY.md says why this design (the AWS SDKs' retry quota) and
// how it was sized.

const (
	budgetCapacity    = DefaultBudgetCapacity // tokens, and where a new client starts
	budgetRetryCost   = 5                     // what an attempt that fails takes
	budgetTimeoutCost = 10                    // what a timed-out attempt takes: it held a connection the longest
	budgetReward      = 1                     // what a call that succeeds without a failure adds
)

// retryBudget is the quota described above. Safe for concurrent use: the
// tokens are one lock-free int64; capacity and off never change.
type retryBudget struct {
	left     atomic.Int64
	capacity int64
	off      bool // RetryPolicy.DisableBudget: grant every retry, take nothing
}

// newRetryBudget returns a full budget of p's capacity (p with its
// defaults filled in), or one that refuses nothing if p disables it.
func newRetryBudget(p RetryPolicy) *retryBudget {
	b := &retryBudget{capacity: int64(p.BudgetCapacity), off: p.DisableBudget}
	if b.capacity <= 0 {
		b.capacity = budgetCapacity
	}
	b.left.Store(b.capacity)
	return b
}

// tokens returns the tokens left.
func (b *retryBudget) tokens() float64 { return float64(b.left.Load()) }

// budgetHold is one call's account with the retry budget: the tokens its
// failed attempts took, which it gives back if the service answers it in
// the end; shared is what they took from the fleet's (WithSharedLimits).
type budgetHold struct{ held, shared int64 }

// onFailure records an attempt that failed in a way worth retrying (were
// the method idempotent). It takes cost tokens if that many are left and
// reports whether it did; a retry may be sent only then.
func (b *retryBudget) onFailure(h *budgetHold, cost int64) bool {
	if b.off {
		return true
	}
	for {
		old := b.left.Load()
		if old < cost {
			return false
		}
		if b.left.CompareAndSwap(old, old-cost) {
			h.held += cost
			return true
		}
	}
}

// onAnswer records an answer that is not a failure of the service (a 2xx,
// or an error status not worth retrying such as 400 or 404): the call gives
// back what its failed attempts took, or, if it took nothing, adds the
// reward.
func (b *retryBudget) onAnswer(h *budgetHold) {
	if b.off {
		return
	}
	n := h.held
	if n == 0 {
		n = budgetReward
	}
	h.held = 0
	for {
		old := b.left.Load()
		v := min(old+n, b.capacity)
		if v == old || b.left.CompareAndSwap(old, v) {
			return
		}
	}
}

// retryCost is what a failed attempt takes from the budget: more for a
// timeout, which held a connection and a server's attention the longest.
func retryCost(err error) int64 {
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		return budgetTimeoutCost
	}
	return budgetRetryCost
}
