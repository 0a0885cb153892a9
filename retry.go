package pagecall

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry policy defaults. See RetryPolicy.
const (
	// DefaultMaxRetries is how many times a failed call is retried: 2
	// retries, so 3 attempts in all.
	DefaultMaxRetries = 2
	// DefaultInitialBackoff is the wait before the first retry, before jitter.
	DefaultInitialBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the exponential backoff between attempts.
	DefaultMaxBackoff = 8 * time.Second
	// DefaultMaxRetryAfter is the longest Retry-After the client waits out.
	// A server asking for a longer wait gets its error returned at once.
	DefaultMaxRetryAfter = 30 * time.Second
	// DefaultBudgetCapacity is the size of the client-wide retry budget in
	// tokens, and where a new client starts: 80 retries' worth (a failed
	// attempt takes 5). See RetryPolicy.
	DefaultBudgetCapacity = 400
)

// RetryPolicy says which failed attempts are retried and how long to wait
// between them. A zero duration field means its default; MaxRetries is taken
// as given, so 0 disables retries.
//
// What is retried:
//
//   - connection failures (refused, reset, EOF before a response) and
//     answers 408, 429, 500, 502, 503, 504 and the rest of 5xx except 501;
//   - never any other 4xx, nor 501;
//   - POST and PATCH, which are not idempotent, only when the request
//     provably never reached the server (a dial failure) or the server said
//     429: never after a timeout, a reset once the request was written, or a
//     5xx.
//
// The wait before retry n (1-based) is drawn uniformly from
// [b/2, b] where b = min(InitialBackoff·2^(n-1), MaxBackoff). A 429 or 503
// with a Retry-After header (seconds or HTTP-date) waits exactly that long
// instead, unless it exceeds MaxRetryAfter or the context deadline, in which
// case the error is returned at once rather than sleeping into a certain
// failure. Such an answer also pauses every other call of the client for
// that long, capped by MaxRetryAfter (see Client.PausedUntil).
//
// Retries are also bounded by a client-wide retry budget (see
// Client.RetryBudget): during an outage the client stops retrying after
// 80 failed attempts' worth of tokens, until successes earn them back.
// BudgetCapacity sizes it and DisableBudget turns it off.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt.
	MaxRetries int
	// InitialBackoff is the base wait before the first retry (default 500ms).
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between attempts (default 8s).
	MaxBackoff time.Duration
	// MaxRetryAfter caps the Retry-After the client honours (default 30s).
	MaxRetryAfter time.Duration
	// BudgetCapacity is the size of the client-wide retry budget, in
	// tokens (default DefaultBudgetCapacity, 400: 80 failed attempts'
	// worth). A client starts with a full budget. A larger one retries
	// through bigger bursts and spends more retries on an outage before it
	// falls back to one attempt per call; one below 5 allows no retry.
	BudgetCapacity int
	// DisableBudget turns the retry budget off: no retry is ever refused
	// for lack of tokens, and Client.RetryBudget stays at the capacity.
	// MaxRetries then bounds the attempts of each call alone, so during
	// an outage every call makes MaxRetries+1 attempts.
	//
	// Turn it off only for a caller that must finish a batch whatever the
	// error rate and has its own limit on attempts: one job that deletes
	// a list of users, say, where a call refused a retry is a call to redo
	// by hand, and the job stops itself after so many failures. A client
	// shared by many callers, or one serving requests, should keep the
	// budget: it is what stops it from tripling the load on an API that
	// is down.
	DisableBudget bool
}

// DefaultRetryPolicy returns the policy a Client uses unless told otherwise.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxRetries:     DefaultMaxRetries,
		InitialBackoff: DefaultInitialBackoff,
		MaxBackoff:     DefaultMaxBackoff,
		MaxRetryAfter:  DefaultMaxRetryAfter,
		BudgetCapacity: DefaultBudgetCapacity,
	}
}

// withDefaults fills zero durations and a zero BudgetCapacity with their
// defaults and clamps a negative MaxRetries to 0.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxRetries < 0 {
		p.MaxRetries = 0
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = DefaultInitialBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MaxBackoff < p.InitialBackoff {
		p.MaxBackoff = p.InitialBackoff
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if p.BudgetCapacity <= 0 {
		p.BudgetCapacity = DefaultBudgetCapacity
	}
	return p
}

// BackoffRange returns the interval the wait before retry n (1-based) is
// drawn from: [max/2, max] with max = min(InitialBackoff·2^(n-1), MaxBackoff).
func (p RetryPolicy) BackoffRange(retry int) (lo, hi time.Duration) {
	p = p.withDefaults()
	hi = p.MaxBackoff
	if retry < 1 {
		retry = 1
	}
	// Doubling past 2^30 overflows long before it matters; MaxBackoff caps it.
	if shift := retry - 1; shift < 31 {
		if d := p.InitialBackoff << shift; d > 0 && d < hi {
			hi = d
		}
	}
	return hi / 2, hi
}

// Backoff returns the jittered wait before retry n (1-based). Equal jitter
// (half fixed, half random) keeps waits from collapsing to zero while still
// spreading out clients that failed together.
func (p RetryPolicy) Backoff(retry int) time.Duration {
	lo, hi := p.BackoffRange(retry)
	if hi <= lo {
		return hi
	}
	return lo + rand.N(hi-lo+1)
}

// isIdempotent reports whether a request with this method may be replayed
// after an ambiguous failure (one where the server may have acted on it).
func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut,
		http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// retryableStatus reports whether an answer with this status is worth
// another attempt of a request that is idempotent or not.
func retryableStatus(idempotent bool, status int) bool {
	switch {
	case status == http.StatusTooManyRequests:
		// The server refused the request without acting on it: safe for
		// every method.
		return true
	case !idempotent:
		return false
	case status == http.StatusRequestTimeout:
		return true
	case status == http.StatusNotImplemented:
		return false
	case status >= 500 && status <= 599:
		return true
	}
	return false
}

// retryableError reports whether a transport error (no HTTP answer) is
// worth another attempt of a request that is idempotent or not.
// Cancellation, deadlines (other than a dial timeout), TLS certificate
// errors, unknown hosts, redirect loops and oversized bodies are final. The
// caller must also stop when its own context has ended: a dial timeout and
// a cancelled context can look alike.
func retryableError(idempotent bool, err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var opErr *net.OpError
	dial := errors.As(err, &opErr) && opErr.Op == "dial"
	if !dial && errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		// A name that does not exist will not exist in 500ms either.
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	if isCertificateError(err) || errors.Is(err, ErrTooManyRedirects) || errors.Is(err, ErrResponseTooLarge) {
		return false
	}
	if dial {
		// Nothing was sent (refused, unreachable, or the dialer's own
		// timeout): safe for every method.
		return true
	}
	// Anything else happened after the request may have been written (reset,
	// EOF, a body cut short): only idempotent requests are replayed.
	return idempotent
}

// parseRetryAfter parses a Retry-After header value, given in seconds or as
// an HTTP-date, into a wait relative to now. A date in the past means no
// wait. ok is false when the value is absent or malformed.
func parseRetryAfter(value string, now time.Time) (wait time.Duration, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if value[0] >= '0' && value[0] <= '9' {
		// delay-seconds is 1*DIGIT (RFC 9110 10.2.3): no sign, no fraction.
		secs, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return 0, false // not digits only, or beyond int64
		}
		// Clamp absurd values instead of overflowing time.Duration.
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// honoursRetryAfter reports whether Retry-After is read for this status.
func honoursRetryAfter(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}
