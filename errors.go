package pagecall

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors returned before anything is sent. Test for them with errors.Is.
var (
	// ErrMissingAPIKey: no key was given with WithAPIKey nor in the
	// PAGECALL_API_KEY environment variable.
	ErrMissingAPIKey = errors.New("pagecall: no API key: set PAGECALL_API_KEY or use WithAPIKey")
	// ErrInvalidAPIKey: the key contains whitespace or control characters,
	// which would corrupt the Authorization header.
	ErrInvalidAPIKey = errors.New("pagecall: invalid API key: it contains whitespace or control characters")
	// ErrInvalidUserID: the user ID is empty, "." or "..", which cannot be
	// sent as one path segment.
	ErrInvalidUserID = errors.New("pagecall: invalid user ID")
	// ErrInvalidBaseURL: the base URL does not parse or is not an absolute
	// http(s) URL without query or fragment.
	ErrInvalidBaseURL = errors.New("pagecall: invalid base URL")
	// ErrInsecureBaseURL: the base URL is plain http:// to a host that is
	// not loopback. Use https, or WithInsecureHTTP to opt out.
	ErrInsecureBaseURL = errors.New("pagecall: refusing plain http:// to a non-loopback host (the API key would travel in clear text)")
	// ErrInvalidRateLimit: WithRateLimit was given a rate that is not above
	// zero, or a burst below 1.
	ErrInvalidRateLimit = errors.New("pagecall: invalid rate limit: the rate must be above zero and the burst at least 1")
	// ErrOutsideBaseURL: a request was addressed outside the base URL
	// (another scheme, host or port, or a path that escapes it), so it is
	// not sent and the key is not attached.
	ErrOutsideBaseURL = errors.New("pagecall: request URL is outside the configured base URL")
	// ErrResponseTooLarge: a response body exceeded the client's limit
	// (see WithMaxResponseBytes). Wrapped in a *RequestError.
	ErrResponseTooLarge = errors.New("pagecall: response body too large")
	// ErrMalformedResponse: a 2xx answer whose body is not the JSON the
	// spec promises. Wrapped in a *RequestError.
	ErrMalformedResponse = errors.New("pagecall: malformed response")
	// ErrTooManyRedirects: the server redirected more than 10 times.
	ErrTooManyRedirects = errors.New("pagecall: stopped after 10 redirects")
	// ErrInvalidHeader: WithHeader or WithUserAgent was given a header the
	// client owns (Authorization, Host, Content-Length, Content-Type,
	// Transfer-Encoding, User-Agent), or a name or value that is not a
	// valid header field. Nothing is sent.
	ErrInvalidHeader = errors.New("pagecall: invalid header")
	// ErrInvalidEdit: WithJSONSet, WithJSONDel or WithQuery cannot be
	// applied to the call (an operation without a JSON body, a path through
	// a string); nothing was sent.
	ErrInvalidEdit = errors.New("pagecall: invalid request edit")
)

// maxErrorBody is how much of an error response is kept in APIError.Body.
const maxErrorBody = 4 << 10

// APIError is the error for every answer outside 2xx that is not retried
// further. Use errors.As to get it:
//
//	var apiErr *pagecall.APIError
//	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusBadRequest { … }
type APIError struct {
	// StatusCode is the HTTP status of the last attempt.
	StatusCode int
	// Method and Path name the request, e.g. "DELETE" and "/v1/users/x".
	Method, Path string
	// Message is the server's explanation: the JSON "message" or "error"
	// field, or the start of a text body. Empty if the body had none.
	Message string
	// RequestID is the server's request ID header, if it sent one.
	RequestID string
	// RetryAfter is the wait the server asked for, if it sent Retry-After.
	RetryAfter time.Duration
	// Attempts is how many requests were sent, retries included.
	Attempts int
	// Body is the start of the response body (at most 4 KiB).
	Body []byte
	// Header is the last response's header.
	Header http.Header
}

// Error returns one line: method, path, status, message, attempts.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pagecall: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

// RequestError is the error for a call that got no HTTP answer to report:
// the network failed, the context ended, a redirect loop, or a response was
// too large or malformed. It wraps the cause, so errors.Is(err,
// context.Canceled) and errors.As(err, **net.OpError) work through it.
type RequestError struct {
	// Method and Path name the request.
	Method, Path string
	// Attempts is how many requests were sent.
	Attempts int
	// StatusCode is the 2xx status of an answer whose body failed (see
	// ErrMalformedResponse); 0 when no answer came.
	StatusCode int
	// Drift lists where a 2xx answer left the spec, for a strict client
	// (WithStrictResponses).
	Drift []FieldDrift
	// Err is the cause.
	Err error
	// Last is the failure of the previous attempt when the call ended while
	// waiting to retry (for example the 503 before a cancelled backoff).
	Last error
}

// Error returns one line naming the request, the cause and the attempts.
func (e *RequestError) Error() string {
	var b strings.Builder
	b.WriteString("pagecall: ")
	if e.Method != "" || e.Path != "" {
		fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	}
	// Our own sentinels start with "pagecall: " too; say it once.
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "pagecall: "))
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Last != nil {
		fmt.Fprintf(&b, " (last attempt: %v)", e.Last)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// requestIDHeaders are the headers a request ID is read from, in order.
var requestIDHeaders = [...]string{"X-Request-Id", "Request-Id", "X-Amzn-Requestid", "X-Amz-Cf-Id"}

// newAPIError builds the error for a non-2xx answer from its status, header
// and the start of its body.
func newAPIError(method, path string, attempts int, resp *http.Response, body []byte, now time.Time) *APIError {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     method,
		Path:       path,
		Attempts:   attempts,
		Header:     resp.Header,
		Message:    errorMessage(resp.Header.Get("Content-Type"), body),
	}
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	if len(body) > 0 {
		e.Body = bytes.Clone(body)
	}
	e.RequestID = requestID(resp.Header)
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	return e
}

// requestID returns the server's request ID from h, or "".
func requestID(h http.Header) string {
	for _, k := range requestIDHeaders {
		if v := h.Get(k); v != "" {
			return truncate(v, 128)
		}
	}
	return ""
}

// maxMessage bounds APIError.Message so that one hostile answer cannot make
// an error line of megabytes.
const maxMessage = 512

// errorMessage extracts a human-readable message from an error body: the
// JSON fields "message", "error" (a string, or an object with "message"),
// "detail" or "title", or for any other body the start of its text with
// HTML tags and runs of white space removed. It never fails; an empty or
// binary body gives "".
func errorMessage(contentType string, body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	if body[0] == '{' {
		var m struct {
			Message json.RawMessage `json:"message"`
			Error   json.RawMessage `json:"error"`
			Detail  json.RawMessage `json:"detail"`
			Title   json.RawMessage `json:"title"`
		}
		if json.Unmarshal(body, &m) == nil {
			for _, raw := range []json.RawMessage{m.Message, m.Error, m.Detail, m.Title} {
				if s := jsonText(raw); s != "" {
					return truncate(s, maxMessage)
				}
			}
			return ""
		}
	}
	if !utf8.Valid(body) {
		return ""
	}
	text := string(body)
	if strings.Contains(contentType, "html") || strings.HasPrefix(text, "<") {
		text = stripTags(text)
	}
	return truncate(strings.Join(strings.Fields(text), " "), maxMessage)
}

// jsonText returns a JSON string's value, or the "message" of a JSON object.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.Join(strings.Fields(s), " ")
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return strings.Join(strings.Fields(o.Message), " ")
	}
	return ""
}

// stripTags drops <…> markup and the contents of <script> and <style>.
// Hand-written rather than using golang.org/x/net/html: an error line needs
// only the visible words of a proxy's error page, not a parse tree, and the
// root package keeps its dependencies to what the generated client needs.
func stripTags(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		s = s[i:]
		lower := strings.ToLower(s[:min(len(s), 8)])
		for _, skip := range []string{"<script", "<style"} {
			if strings.HasPrefix(lower, skip) {
				end := "</" + skip[1:]
				if j := strings.Index(strings.ToLower(s), end); j >= 0 {
					s = s[j+len(end):]
				} else {
					s = ""
				}
			}
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		s = s[j+1:]
	}
	return b.String()
}

// truncate shortens s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// ErrInvalidPathParam: a path parameter is empty, "." or "..", which cannot
// be sent as one path segment. The error is a *PathParamError naming the
// parameter; for user IDs it also satisfies errors.Is(err, ErrInvalidUserID).
var ErrInvalidPathParam = errors.New("pagecall: invalid path parameter")

// PathParamError is the error for a path parameter refused before anything
// is sent. errors.Is matches it with ErrInvalidPathParam, and with
// ErrInvalidUserID when the parameter is a user's ID.
type PathParamError struct {
	// Param is the parameter's name in the spec, e.g. "room_id".
	Param string
	// Reason says what is wrong with the value.
	Reason string
	user   bool
}

// Error names the parameter and the reason.
func (e *PathParamError) Error() string {
	what := "path parameter"
	if e.user {
		what = "user ID"
	}
	return fmt.Sprintf("pagecall: invalid %s %s: %s", what, e.Param, e.Reason)
}

// Is reports whether target is ErrInvalidPathParam, or ErrInvalidUserID for
// a user's ID.
func (e *PathParamError) Is(target error) bool {
	return target == ErrInvalidPathParam || e.user && target == ErrInvalidUserID
}
