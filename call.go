package pagecall

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// This file holds the per-call options (CallOption) and the per-call state
// the request loop reads them from. A call without options, on an
// operation that needs no mark and a client without hooks, carries no state
// at all: callFrom returns nil, and every step of the loop treats a nil
// *call as "the client's defaults".

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
// client hook. It is itself the call's context, so that carrying it costs
// one allocation, as the context.WithValue it replaces did; the request
// loop finds it with callFrom.
type call struct {
	context.Context
	op      *operation
	opts    callOptions
	start   time.Time
	bounded bool // its own timeout is already on the context

	// What the hooks (hook.go) need; hooks is nil for a client without.
	hooks     *hookSet
	ident     CallInfo        // the operation, as the hooks see it
	hctx      context.Context // the context CallStart returned
	attemptAt time.Time       // when the current attempt started
	status    int             // the last answer's status, for CallEnd
	attempts  int             // the attempts sent, for CallEnd
	hooksDone bool            // CallEnd has run
	adopted   bool            // a request through Client.API: the loop ends it
}

// callKey is the context key under which a *call finds itself.
type callKey struct{}

// Value returns the call for callKey and defers to the parent otherwise.
func (c *call) Value(key any) any {
	if key == (callKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// callFrom returns the call that ctx belongs to, or nil.
func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// newCall applies opts and returns the call's state, or nil when neither the
// options, the operation nor the client's hooks need any: the common call
// allocates nothing here. A refused option is returned as the error.
func newCall(ctx context.Context, op *operation, opts []CallOption, now time.Time, hooks *hookSet) (*call, error) {
	if len(opts) == 0 && !op.idempotent && hooks == nil {
		return nil, nil
	}
	c := &call{Context: ctx, op: op, start: now, hooks: hooks}
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
		c.record(nil, 0)
		return nil, err
	}
	return c, nil
}

// maxRetries returns the retries this call allows: its own, or def.
func (c *call) maxRetries(def int) int {
	if c != nil && c.opts.retriesSet {
		return c.opts.maxRetries
	}
	return def
}

// idempotent reports whether the call was marked safe to replay.
func (c *call) idempotent() bool { return c != nil && c.opts.idempotent }

// addHeaders sets the call's own headers on h.
func (c *call) addHeaders(h http.Header) {
	if c == nil {
		return
	}
	for k, vs := range c.opts.header {
		h[k] = append(h[k][:0:0], vs...)
	}
}

// timeout returns the bound of this call: its own (own true), or the
// client's def.
func (c *call) timeout(def time.Duration) (d time.Duration, own bool) {
	if c != nil && c.opts.timeoutSet {
		return c.opts.timeout, true
	}
	return def, false
}

// record fills the caller's ResponseInfo with what the loop saw of the
// last answer (resp nil when none came) and the attempts it sent.
func (c *call) record(resp *http.Response, attempts int) {
	if c == nil {
		return
	}
	c.attempts = attempts
	if resp != nil {
		c.status = resp.StatusCode
	}
	if c.opts.info == nil {
		return
	}
	info := c.opts.info
	*info = ResponseInfo{Attempts: attempts}
	if resp != nil {
		info.StatusCode, info.Header, info.RequestID = resp.StatusCode, resp.Header, requestID(resp.Header)
		info.Body = bodyOf(resp)
	}
}

// recordAPIError is record for a call that ended with an answer outside
// 2xx, which the loop keeps only as its *APIError.
func (c *call) recordAPIError(e *APIError) {
	if c == nil {
		return
	}
	c.attempts, c.status = e.Attempts, e.StatusCode
	if c.opts.info == nil {
		return
	}
	*c.opts.info = ResponseInfo{StatusCode: e.StatusCode, Header: e.Header, RequestID: e.RequestID, Attempts: e.Attempts}
}

// finish completes the caller's ResponseInfo once the answer is decoded
// (the call's duration and the drift found in its body), tells the hooks
// that the call ended with err, and returns err.
func (c *call) finish(now time.Time, drift []FieldDrift, err error) error {
	if c == nil {
		return err
	}
	if c.opts.info != nil {
		c.opts.info.Duration = now.Sub(c.start)
		c.opts.info.Drift = drift
	}
	c.ended(err)
	return err
}
