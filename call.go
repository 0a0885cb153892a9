package pagecall

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// This file holds the per-call options (CallOption) and the per-call state
// the request loop reads them from, with every method of that state: the
// options, the ResponseInfo it fills and the hooks it tells. A call without
// options, on an operation that needs no mark and a client without hooks,
// has no state at all: the loop then skips every step of this file.

// CallOption configures one call: pass it as the last arguments of any
// generated method, iterator, or Client.Do. Options compose, and a later
// one wins. An iterator applies them to every page it fetches.
type CallOption func(*callOptions)

// callOptions is what the CallOptions of one call asked for.
type callOptions struct {
	info       *ResponseInfo
	timeout    time.Duration // 0: the client's; see WithCallTimeout
	timeoutSet bool
	maxRetries int
	retriesSet bool
	idempotent bool
	header     http.Header
	headerErr  error       // the first refused WithHeader
	edits      []jsonEdit  // WithJSONSet and WithJSONDel (jsonedit.go)
	query      [][2]string // WithQuery: name, value
	editErr    error       // the first refused of them
}

// ResponseInfo describes how a call went: what the last answer said and
// where it left the spec. Pass a pointer with WithResponseInfo; it is
// filled when the call returns, on success and on failure.
type ResponseInfo struct {
	// StatusCode is the HTTP status of the last answer, 0 if none came.
	StatusCode int
	// Header is the last answer's header, nil if none came.
	Header http.Header
	// RequestID is the server's request ID header, if it sent one.
	RequestID string
	// Attempts is how many requests were sent, retries included.
	Attempts int
	// Duration is the time the call took, attempts and waits included.
	Duration time.Duration
	// Drift lists where a 2xx answer's body left the spec: each field that
	// could not be decoded into the model, which was left at its zero
	// value. See WithStrictResponses.
	Drift []FieldDrift
	// Body is a 2xx answer's body as received (within the size cap, see
	// WithMaxResponseBytes), nil for an answer outside 2xx (see
	// APIError.Body): every field of it, those the spec does not declare
	// included, can be read from it.
	Body []byte
}

// WithResponseInfo fills *info when the call returns. For an iterator it
// describes the last page fetched. A nil info is ignored.
func WithResponseInfo(info *ResponseInfo) CallOption {
	return func(o *callOptions) { o.info = info }
}

// WithCallTimeout bounds this call, attempts and waits included, in place of
// the client's WithTimeout. A deadline on the context still wins when it is
// shorter. Zero or less means no bound beyond the context's.
func WithCallTimeout(d time.Duration) CallOption {
	return func(o *callOptions) { o.timeout, o.timeoutSet = d, true }
}

// WithCallMaxRetries sets how many times this call may be retried (0:
// none), in place of the client's policy. The retry budget, the client-wide
// pause and the rate limit still apply.
func WithCallMaxRetries(n int) CallOption {
	return func(o *callOptions) { o.maxRetries, o.retriesSet = max(n, 0), true }
}

// WithIdempotent marks this call as safe to replay: it is retried after an
// ambiguous failure as a PUT is, whatever its method. It is mostly for
// Client.Do, for endpoints the spec lacks.
func WithIdempotent() CallOption {
	return func(o *callOptions) { o.idempotent = true }
}

// WithHeader adds a header to every attempt of this call. The headers the
// client owns (Authorization, Host, Content-Length, Content-Type,
// Transfer-Encoding, User-Agent) are refused, and so are names and values
// that are not valid header fields: the call then fails with
// ErrInvalidHeader before anything is sent. Given twice with one name, the
// later value wins.
func WithHeader(name, value string) CallOption {
	return func(o *callOptions) {
		if o.headerErr != nil {
			return
		}
		if err := checkCallHeader(name, value); err != nil {
			o.headerErr = err
			return
		}
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Set(name, value)
	}
}

// reservedHeaders are the headers WithHeader refuses: the client sets them
// itself, and a caller's value would break auth, framing or identity.
var reservedHeaders = [...]string{"Authorization", "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "User-Agent"}

// checkCallHeader refuses a reserved header, or a name or value that is not
// a valid header field (golang.org/x/net's httpguts is the check net/http
// itself applies before sending).
func checkCallHeader(name, value string) error {
	for _, r := range reservedHeaders {
		if strings.EqualFold(name, r) {
			return fmt.Errorf("%w: %s is set by the client", ErrInvalidHeader, r)
		}
	}
	if !httpguts.ValidHeaderFieldName(name) {
		return fmt.Errorf("%w: %q is not a valid header name", ErrInvalidHeader, name)
	}
	if !httpguts.ValidHeaderFieldValue(value) {
		return fmt.Errorf("%w: the value of %s is not a valid header value", ErrInvalidHeader, name)
	}
	return nil
}

// call is the state of one call that has options, an operation mark or a
// client hook. The request loop creates it (see requestLoop.call) and
// passes it, with the call's context, to each step.
type call struct {
	op    *operation
	opts  callOptions
	start time.Time

	// What the hooks need; hooks is nil for a client without.
	hooks     *hookSet
	ident     CallInfo  // the operation, as the hooks see it
	attemptAt time.Time // when the current attempt started
}

// newCall applies opts and returns the call's state. A refused option is
// returned as the error, after the ResponseInfo is reset.
func newCall(op *operation, opts []CallOption, now time.Time, hooks *hookSet) (*call, error) {
	c := &call{op: op, start: now, hooks: hooks}
	if hooks != nil {
		c.ident = hooks.callInfo(op)
	}
	c.opts.idempotent = op.idempotent
	for _, o := range opts {
		if o != nil {
			o(&c.opts)
		}
	}
	if err := cmp.Or(c.opts.headerErr, c.opts.editErr); err != nil {
		c.refused()
		return nil, err
	}
	return c, nil
}

// maxRetries returns the retries this call allows: its own, or def.
func (c *call) maxRetries(def int) int {
	if c.opts.retriesSet {
		return c.opts.maxRetries
	}
	return def
}

// addHeaders sets the call's own headers on h.
func (c *call) addHeaders(h http.Header) {
	for k, vs := range c.opts.header {
		h[k] = append(h[k][:0:0], vs...)
	}
}

// refused resets the caller's ResponseInfo for a call refused before
// anything was built: no hook hears of it.
func (c *call) refused() {
	if c.opts.info != nil {
		*c.opts.info = ResponseInfo{}
	}
}

// end is where every call that got past its checks ends, once: it fills
// the caller's ResponseInfo with the last answer (resp, or the *APIError in
// err), the attempts, the duration and the drift, and runs CallEnd.
func (c *call) end(ctx context.Context, resp *http.Response, body []byte, attempts int, drift []FieldDrift, now time.Time, err error) {
	var info ResponseInfo
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		info = ResponseInfo{StatusCode: apiErr.StatusCode, Header: apiErr.Header, RequestID: apiErr.RequestID, Attempts: apiErr.Attempts}
	} else {
		info.Attempts = attempts
		if resp != nil {
			info.StatusCode, info.Header, info.RequestID, info.Body = resp.StatusCode, resp.Header, requestID(resp.Header), body
		}
	}
	info.Duration, info.Drift = now.Sub(c.start), drift
	if c.opts.info != nil {
		*c.opts.info = info
	}
	if c.hooks == nil {
		return
	}
	e := CallEnd{Call: c.ident, StatusCode: info.StatusCode, Attempts: info.Attempts, Duration: time.Since(c.start), ErrorType: ErrorType(err)}
	for _, h := range c.hooks.list {
		if h.CallEnd != nil {
			v := e
			if h.PathValues {
				v.Err = err
			}
			h.CallEnd(ctx, v)
		}
	}
}

// started runs CallStart and returns the context the call runs in.
func (c *call) started(ctx context.Context) context.Context {
	if c.hooks == nil {
		return ctx
	}
	for _, h := range c.hooks.list {
		if h.CallStart != nil {
			if next := h.CallStart(ctx, c.ident); next != nil {
				ctx = next
			}
		}
	}
	return ctx
}

// attemptStarted runs AttemptStart for attempt n of req.
func (c *call) attemptStarted(ctx context.Context, req *http.Request, n int) {
	if c.hooks == nil {
		return
	}
	c.attemptAt = time.Now()
	e := AttemptStart{Call: c.ident, Attempt: n, Header: AttemptHeader{req.Header}}
	if c.hooks.values {
		e.Path = req.URL.EscapedPath()
	}
	for _, h := range c.hooks.list {
		if h.AttemptStart != nil {
			v := e
			if !h.PathValues {
				v.Path = ""
			}
			h.AttemptStart(ctx, v)
		}
	}
}

// attemptEnded runs AttemptEnd for attempt a, followed by wait when next
// is retryNow.
func (c *call) attemptEnded(ctx context.Context, a attempt, wait time.Duration, next retryVerdict) {
	if c.hooks == nil {
		return
	}
	e := AttemptEnd{Call: c.ident, Attempt: a.n, Duration: time.Since(c.attemptAt),
		ErrorType: ErrorType(a.fail), Retry: next == retryNow, BudgetRefused: next == retryRefused}
	if a.resp != nil {
		e.StatusCode = a.resp.StatusCode
	} else {
		e.StatusCode = statusOf(a.fail)
	}
	if e.Retry {
		e.Wait, e.WaitCause = wait, WaitBackoff
		if a.hasWait {
			e.WaitCause = WaitRetryAfter
		}
	}
	for _, h := range c.hooks.list {
		if h.AttemptEnd != nil {
			v := e
			if h.PathValues {
				v.Err = a.fail
			}
			h.AttemptEnd(ctx, v)
		}
	}
}

// paused runs Pause for attempt n, held for wait by an answer of status.
// It is safe on a nil call (a plain call has no state).
func (c *call) paused(ctx context.Context, n int, wait time.Duration, status int, deadlineFirst bool) {
	if c == nil || c.hooks == nil {
		return
	}
	e := PauseWait{Call: c.ident, Attempt: n, Wait: wait, StatusCode: status, DeadlineFirst: deadlineFirst}
	for _, h := range c.hooks.list {
		if h.Pause != nil {
			h.Pause(ctx, e)
		}
	}
}
