package pagecall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file holds the call-level hooks (WithHooks): what a Client tells an
// observer about each call, its attempts, the retry budget and the
// client-wide pause. The module github.com/pplink/pagecall-go/otel builds
// OpenTelemetry traces and metrics on them; the CLI's --verbose prints
// them. A client without hooks pays a nil check at each step and allocates
// nothing for them.

// Hooks observes the calls of a Client. Every field is optional. The
// functions run on the goroutine of the call, in this order: CallStart;
// for each attempt, Pause (when the client-wide pause holds it),
// AttemptStart and AttemptEnd; then CallEnd. They must be safe for
// concurrent use (calls run concurrently) and quick: the call waits for
// them.
//
// What they receive never holds the API key. It holds path parameter
// values (a user ID may be an e-mail address) only when PathValues is set:
// otherwise the path appears only as its template ("/users/{user_id}"),
// and errors only as their ErrorType.
//
// Every call through a generated method (an iterator's pages included) and
// through Client.Do is observed. A call refused before
// anything is built (an invalid path parameter or CallOption) calls no
// hook.
type Hooks struct {
	// CallStart is called when a call starts. It returns the context the
	// call's attempts run in: ctx itself, or one derived from it, for
	// example carrying a trace span. A nil result means ctx.
	CallStart func(ctx context.Context, call CallInfo) context.Context
	// AttemptStart is called before each attempt is sent, once the
	// client-wide pause and the rate limit let it go. Its Header sets
	// request headers on this attempt, such as the W3C traceparent.
	AttemptStart func(ctx context.Context, a AttemptStart)
	// AttemptEnd is called when an attempt has an answer or has failed,
	// with what happens next: another attempt after a wait, or the end.
	AttemptEnd func(ctx context.Context, a AttemptEnd)
	// Pause is called when the client-wide pause (a 429 or 503 with
	// Retry-After, see Client.PausedUntil) holds an attempt of this call.
	Pause func(ctx context.Context, p PauseWait)
	// CallEnd is called once when the call has returned its result, the
	// answer decoded.
	CallEnd func(ctx context.Context, c CallEnd)
	// SharedLimits is called when the shared limits (WithSharedLimits) become
	// unreachable, and again when they answer once more.
	SharedLimits func(ctx context.Context, e SharedLimitsEvent)
	// PathValues makes the hooks receive what names path parameter
	// values: AttemptStart.Path, and the Err fields, whose messages name
	// the request's path. Leave it unset for telemetry.
	PathValues bool
}

// WithHooks observes every call of the client with h. Given more than once,
// every Hooks is called, in the order given; the context one CallStart
// returns is the next one's ctx.
func WithHooks(h Hooks) Option {
	return func(s *settings) { s.hooks = append(s.hooks, h) }
}

// CallInfo names the operation of a call: never a path parameter value.
type CallInfo struct {
	// OperationID is the spec's operationId, e.g. "DeleteUser"; "" for a
	// request sent through Client.Do, whose operation the loop does not
	// know.
	OperationID string
	// Method is the HTTP method, e.g. "DELETE".
	Method string
	// PathTemplate is the spec's path template below the base URL, e.g.
	// "/users/{user_id}"; "" when OperationID is "".
	PathTemplate string
	// ServerAddress and ServerPort are the base URL's host and port (the
	// scheme's default port when it names none).
	ServerAddress string
	ServerPort    int
}

// AttemptStart describes an attempt about to be sent.
type AttemptStart struct {
	Call CallInfo
	// Attempt is 1 for the first request of the call, 2 for its first
	// retry, and so on.
	Attempt int
	// Header sets headers on this attempt's request. It cannot read or
	// set the headers the client owns (see WithHeader).
	Header AttemptHeader
	// Path is the request's escaped path, parameter values included,
	// without the query; set only with Hooks.PathValues.
	Path string
}

// WaitCause says what decided the wait before a retry.
type WaitCause string

// The causes of a wait before a retry.
const (
	// WaitRetryAfter is the server's Retry-After header.
	WaitRetryAfter WaitCause = "retry_after"
	// WaitBackoff is the retry policy's exponential backoff with jitter.
	WaitBackoff WaitCause = "backoff"
)

// AttemptEnd describes how an attempt went and what follows it.
type AttemptEnd struct {
	Call    CallInfo
	Attempt int
	// StatusCode is the answer's HTTP status, 0 if none came.
	StatusCode int
	// ErrorType classifies a failed attempt, "" for a 2xx answer: the
	// status code ("503") for an answer outside 2xx, otherwise the kind of
	// error (see ErrorType).
	ErrorType string
	// Err is what the call would return were this attempt the last: an
	// *APIError or a *RequestError. Set only with Hooks.PathValues.
	Err error
	// Duration is the attempt's own time: sending the request and reading
	// the answer, without the waits before it.
	Duration time.Duration
	// Retry reports that another attempt follows, after Wait, whose
	// WaitCause says what decided it.
	Retry     bool
	Wait      time.Duration
	WaitCause WaitCause
	// BudgetRefused reports that the retry policy allowed another attempt
	// and the client's retry budget refused it (see Client.RetryBudget).
	BudgetRefused bool
}

// PauseWait describes an attempt held by the client-wide pause.
type PauseWait struct {
	Call CallInfo
	// Attempt is the attempt the pause holds.
	Attempt int
	// Wait is how long the pause holds it.
	Wait time.Duration
	// StatusCode is the status of the answer that asked for the pause
	// (429 or 503).
	StatusCode int
	// DeadlineFirst reports that the call's deadline ends before the
	// pause: the call fails at once instead of waiting.
	DeadlineFirst bool
}

// CallEnd describes how a call ended.
type CallEnd struct {
	Call CallInfo
	// StatusCode is the status of the last answer, 0 if none came.
	StatusCode int
	// Attempts is how many requests were sent, retries included.
	Attempts int
	// Duration is the call's time, attempts and waits included.
	Duration time.Duration
	// ErrorType is "" for a call that succeeded; see AttemptEnd.ErrorType.
	ErrorType string
	// Err is the call's error; set only with Hooks.PathValues.
	Err error
}

// AttemptHeader sets headers on one attempt's request. It has the method
// set of OpenTelemetry's propagation.TextMapCarrier, so a propagator can
// inject into it directly; the headers the client owns (Authorization,
// Host, Content-Length, Content-Type, Transfer-Encoding, User-Agent) can be
// neither read nor set through it.
type AttemptHeader struct{ h http.Header }

// Get returns the value of key, or "" for a header the client owns.
func (a AttemptHeader) Get(key string) string {
	if a.h == nil || reservedHeader(key) {
		return ""
	}
	return a.h.Get(key)
}

// Set sets key to value on this attempt. A header the client owns, or a
// name or value that is not a valid header field, is ignored.
func (a AttemptHeader) Set(key, value string) {
	if a.h == nil || checkCallHeader(key, value) != nil {
		return
	}
	a.h.Set(key, value)
}

// Keys returns the names of the request's headers, without those the
// client owns.
func (a AttemptHeader) Keys() []string {
	keys := make([]string, 0, len(a.h))
	for k := range a.h {
		if !reservedHeader(k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// String lists the names of the headers Keys returns, never a value: so
// that printing an event (fmt's %+v, a debugger's pretty-printer going
// through fmt) cannot reach the Authorization header it wraps.
func (a AttemptHeader) String() string {
	keys := a.Keys()
	slices.Sort(keys)
	return "AttemptHeader" + fmt.Sprint(keys)
}

// Format prints String for every verb.
func (a AttemptHeader) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

// LogValue logs String.
func (a AttemptHeader) LogValue() slog.Value { return slog.StringValue(a.String()) }

// reservedHeader reports a header the client owns.
func reservedHeader(name string) bool {
	for _, r := range reservedHeaders {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// ErrorType classifies err in few values, none of which names a path, a
// parameter or the key, for telemetry (OpenTelemetry's error.type): "" for
// nil; the status code of an *APIError ("503"); "timeout" for a deadline or
// a network timeout; "canceled" for a cancelled context;
// "connection_reset", "connection_refused", "connection_closed" and "tls"
// for those transport failures; a name for each of this package's errors
// ("response_too_large", "malformed_response", "too_many_redirects",
// "outside_base_url", "invalid_header", "invalid_path_param",
// "invalid_edit"); and
// "_OTHER" for the rest.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return strconv.Itoa(apiErr.StatusCode)
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	var ne net.Error
	switch {
	case isCertificateError(err):
		return "tls"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "_OTHER"
}

// errorKinds are the errors ErrorType names, first match wins.
var errorKinds = [...]struct {
	err  error
	name string
}{
	{context.DeadlineExceeded, "timeout"},
	{context.Canceled, "canceled"},
	{syscall.ECONNRESET, "connection_reset"},
	{syscall.ECONNREFUSED, "connection_refused"},
	{io.ErrUnexpectedEOF, "connection_closed"},
	{io.EOF, "connection_closed"},
	{ErrResponseTooLarge, "response_too_large"},
	{ErrMalformedResponse, "malformed_response"},
	{ErrTooManyRedirects, "too_many_redirects"},
	{ErrOutsideBaseURL, "outside_base_url"},
	{ErrInvalidHeader, "invalid_header"},
	{ErrInvalidPathParam, "invalid_path_param"},
	{ErrInvalidEdit, "invalid_edit"},
}

// hookSet is the Hooks a client was given; nil when it has none.
type hookSet struct {
	list   []Hooks
	values bool // one of them asked for path values
	server CallInfo
}

// newHookSet returns the set of hooks, or nil for none.
func newHookSet(list []Hooks, host string, port int) *hookSet {
	if len(list) == 0 {
		return nil
	}
	hs := &hookSet{list: list, server: CallInfo{ServerAddress: host, ServerPort: port}}
	for _, h := range list {
		hs.values = hs.values || h.PathValues
	}
	return hs
}

// callInfo names op for the hooks.
func (hs *hookSet) callInfo(op *operation) CallInfo {
	ci := hs.server
	ci.OperationID, ci.Method, ci.PathTemplate = op.id, op.method, op.path
	return ci
}

// defaultPort is the port of a URL that names none.
func defaultPort(scheme, port string) int {
	if p, err := strconv.Atoi(port); err == nil {
		return p
	}
	if scheme == "http" {
		return 80
	}
	return 443
}
