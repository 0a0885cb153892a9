package pagecall

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Limits of the default transport and of response handling.
const (
	// DefaultTimeout bounds one call, all attempts and waits included, when
	// the caller's context has no deadline. See WithTimeout.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxResponseBytes caps a response body. See WithMaxResponseBytes.
	DefaultMaxResponseBytes = 10 << 20
	// drainLimit is how much of an unwanted body (a failed attempt's, or an
	// error's) is read so that the connection can be reused. Proxy error
	// pages are often several KiB; past this the connection is closed.
	drainLimit = 64 << 10
	// maxRedirects is how many redirects one attempt follows.
	maxRedirects = 10

	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
	idleConnTimeout       = 90 * time.Second
	// maxIdleConnsPerHost keeps a connection for each of dozens of
	// concurrent callers; net/http's default of 2 makes a busy client open
	// and close a connection for almost every call.
	maxIdleConnsPerHost = 128
)

// newDefaultHTTPClient returns the HTTP client a Client uses unless
// WithHTTPClient is given: a transport of its own, tuned for concurrent use
// and bounded at every step.
func newDefaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   dialTimeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxIdleConnsPerHost,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}}
}

// requestLoop is the one place where auth, retries, limits and error
// mapping happen. The generated client sends every request through Do, so
// every operation, now or in a future spec, gets the same treatment.
type requestLoop struct {
	hc        *http.Client // a copy of the caller's, with our redirect guard
	base      *url.URL
	basePath  string        // base.EscapedPath() with one trailing slash
	auth      func() string // "Bearer <key>"; see secretHeader
	userAgent []string      // the one User-Agent value; see WithUserAgent
	policy    RetryPolicy
	budget    *retryBudget
	pause     *pause        // the client-wide wait a Retry-After asks for
	limiter   *rate.Limiter // WithRateLimit; nil for none
	timeout   time.Duration
	maxBody   int64
	strict    bool      // WithStrictResponses
	drift     *driftLog // what reportDrift has logged
	hooks     *hookSet  // WithHooks; nil for none
	log       *slog.Logger
	now       func() time.Time
}

// attempt is what one attempt of a call came to.
type attempt struct {
	n         int            // 1-based
	resp      *http.Response // a 2xx answer, its body in memory; nil otherwise
	err       error          // the transport's error, if it sent nothing back
	fail      error          // what the caller gets if this is the end
	retryable bool           // the policy allows another attempt for this method
	wait      time.Duration  // the server's Retry-After, when hasWait
	hasWait   bool
}

// Do sends req, retrying as the policy allows, and returns a 2xx response
// whose body is already read into memory, or an error: *APIError for a
// non-2xx answer, *RequestError for anything else. Each concern is a step
// of its own: prepare, gate, send, account, nextWait; the hooks (hook.go)
// hear of each attempt through attemptStarted and attemptEnded.
func (l *requestLoop) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if tctx, cancel := l.withTimeout(ctx); cancel != nil {
		defer cancel()
		ctx = tctx
		req = req.WithContext(ctx)
	}
	req, cl := l.adopt(req, callFrom(ctx))
	ctx = req.Context()
	req, err := l.prepare(req, cl)
	if err != nil {
		return nil, err
	}
	idempotent := requestIsIdempotent(req)
	maxRetries := cl.maxRetries(l.policy.MaxRetries)
	var hold budgetHold // what this call's failures took from the retry budget
	for n := 1; ; n++ {
		if err := l.gate(ctx, cl, req.Method, req.URL.EscapedPath(), n); err != nil {
			return nil, l.end(cl, nil, n-1, err) // a pause or rate-limit wait that the deadline or context ended
		}
		noteAttempt(ctx, n)
		if req, err = rewind(req, n); err != nil {
			return nil, l.end(cl, nil, n-1, err)
		}
		cl.attemptStarted(req, n)
		a := l.send(ctx, req, n, idempotent)
		if a.resp != nil {
			l.budget.onAnswer(&hold)
			cl.attemptEnded(a, 0, retryNot)
			return a.resp, l.end(cl, a.resp, n, nil)
		}
		granted := l.account(ctx, &hold, a)
		wait, next := l.nextWait(ctx, req, a, maxRetries, granted)
		cl.attemptEnded(a, wait, next)
		if next != retryNow {
			return nil, l.end(cl, nil, n, a.fail)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, l.end(cl, nil, n, &RequestError{Method: req.Method, Path: req.URL.EscapedPath(), Attempts: n, Err: err, Last: a.fail})
		}
	}
}

// prepare checks where req goes and readies it for every attempt: the body
// buffered so that each attempt sends the same bytes, and the headers set.
func (l *requestLoop) prepare(req *http.Request, cl *call) (*http.Request, error) {
	if err := l.checkURL(req.URL); err != nil {
		return nil, l.end(cl, nil, 0, &RequestError{Method: req.Method, Path: req.URL.EscapedPath(), Err: err})
	}
	req, err := cl.edit(req) // WithJSONSet, WithJSONDel, WithQuery: jsonedit.go
	if err != nil {
		return nil, l.end(cl, nil, 0, err)
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, l.end(cl, nil, 0, &RequestError{Method: req.Method, Path: req.URL.EscapedPath(), Err: err})
		}
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.Body, _ = req.GetBody()
	}
	cl.addHeaders(req.Header)
	req.Header.Set("Authorization", l.auth())
	// One slice shared by every request, so that identity costs no
	// allocation; nothing appends to it (its capacity is 1).
	req.Header["User-Agent"] = l.userAgent
	return req, nil
}

// rewind gives attempt n after the first a fresh copy of the body: the
// previous attempt's is spent.
func rewind(req *http.Request, n int) (*http.Request, error) {
	if n == 1 || req.GetBody == nil {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, &RequestError{Method: req.Method, Path: req.URL.EscapedPath(), Attempts: n - 1, Err: err}
	}
	r := *req
	r.Body = body
	return &r, nil
}

// send makes attempt n and classifies it: a 2xx answer (its body read into
// memory), or a failure, retryable or not, with the wait the server asked
// for.
func (l *requestLoop) send(ctx context.Context, req *http.Request, n int, idempotent bool) attempt {
	path := req.URL.EscapedPath()
	a := attempt{n: n}
	resp, err := l.hc.Do(req)
	var body []byte
	if err == nil {
		body, err = l.readBody(resp)
	}
	switch {
	case err != nil:
		a.err = err
		a.retryable = ctx.Err() == nil && retryableError(idempotent, err)
		a.fail = &RequestError{Method: req.Method, Path: path, Attempts: n, Err: unwrapURLError(err)}
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		if l.log.Enabled(ctx, slog.LevelDebug) {
			l.log.DebugContext(ctx, "pagecall: attempt succeeded", "method", req.Method, "path", path, "attempt", n, "status", resp.StatusCode)
		}
		resp.Body = &memBody{b: body, attempts: n}
		resp.Body.(*memBody).Reset(body)
		resp.ContentLength = int64(len(body))
		a.resp = resp
	default:
		a.retryable = retryableStatus(idempotent, resp.StatusCode)
		if honoursRetryAfter(resp.StatusCode) {
			a.wait, a.hasWait = ParseRetryAfter(resp.Header.Get("Retry-After"), l.now())
		}
		a.fail = l.scrub(newAPIError(req.Method, path, n, resp, body, l.now()))
	}
	return a
}

// account charges a failed attempt to the retry budget, and to the
// client-wide pause when the server asked to wait. It reports whether the
// budget grants a retry. The budget counts failures of the service (those
// that would be retried were the request idempotent), whatever this method
// allows.
func (l *requestLoop) account(ctx context.Context, hold *budgetHold, a attempt) (granted bool) {
	if a.err != nil && RetryableError(http.MethodGet, a.err) || a.err == nil && RetryableStatus(http.MethodGet, statusOf(a.fail)) {
		granted = l.budget.onFailure(hold, retryCost(a.err))
	} else if a.err == nil {
		l.budget.onAnswer(hold) // the server is answering; this is not an outage
	}
	if a.hasWait {
		l.pause.hold(ctx, l.log, a.wait, l.policy.MaxRetryAfter, a.fail)
	}
	return granted
}

// retryVerdict is what nextWait decided.
type retryVerdict uint8

const (
	retryNot     retryVerdict = iota // the call ends
	retryNow                         // another attempt, after the wait
	retryRefused                     // the call ends: the budget refused the retry
)

// nextWait decides whether failed attempt a is retried, and after what
// wait: the policy, this call's retries, the server's Retry-After, the
// deadline and the budget may each end the call.
func (l *requestLoop) nextWait(ctx context.Context, req *http.Request, a attempt, maxRetries int, granted bool) (time.Duration, retryVerdict) {
	if !a.retryable || a.n > maxRetries {
		return 0, retryNot
	}
	wait := a.wait
	if !a.hasWait {
		wait = l.policy.Backoff(a.n)
	}
	debug := l.log.Enabled(ctx, slog.LevelDebug)
	if debug {
		l.log.DebugContext(ctx, "pagecall: attempt failed", "method", req.Method, "path", req.URL.EscapedPath(), "attempt", a.n, "error", a.fail.Error(), "wait", wait, "budget_tokens", l.budget.tokens())
	}
	if a.hasWait && wait > l.policy.MaxRetryAfter {
		return 0, retryNot
	}
	if deadline, ok := ctx.Deadline(); ok && l.now().Add(wait).After(deadline) {
		return 0, retryNot // sleeping would end in a timeout anyway: report what we have
	}
	if !granted {
		if debug {
			l.log.DebugContext(ctx, "pagecall: retry budget exhausted, not retrying", "method", req.Method, "path", req.URL.EscapedPath(), "attempt", a.n, "budget_tokens", l.budget.tokens())
		}
		return 0, retryRefused
	}
	return wait, retryNow
}

// end records how the call ended in its ResponseInfo and returns err. A
// request through Client.API that the loop adopted for the hooks ends here.
func (l *requestLoop) end(cl *call, resp *http.Response, attempts int, err error) error {
	if cl == nil {
		return err
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		cl.recordAPIError(apiErr)
	} else {
		cl.record(resp, attempts)
	}
	if cl.adopted {
		cl.ended(err)
	}
	return err
}

// statusOf returns the status of an *APIError, or 0.
func statusOf(err error) int {
	if e, ok := err.(*APIError); ok {
		return e.StatusCode
	}
	return 0
}

// scrub removes the API key from what a hostile or careless server echoed
// back, so that it cannot reach logs through the error's message or body.
func (l *requestLoop) scrub(e *APIError) *APIError {
	key := strings.TrimPrefix(l.auth(), "Bearer ")
	e.Message, e.Body = redactKey(e.Message, key), redactKeyBytes(e.Body, key) // the rule: redact.go
	return e
}

// memBody is a response body already read into memory: one allocation
// where io.NopCloser(bytes.NewReader(b)) takes two. Like that pair, it has
// WriteTo. It keeps the bytes and the attempts of the call for the
// decoding step (see parse).
type memBody struct {
	bytes.Reader
	b        []byte
	attempts int
}

// Close does nothing: there is nothing left to release.
func (*memBody) Close() error { return nil }

// withTimeout bounds ctx by the call's own timeout (WithCallTimeout), which
// a shorter deadline of ctx still beats, or else by the client's when ctx
// has no deadline of its own. It returns a nil cancel when it added
// nothing.
func (l *requestLoop) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	cl := callFrom(ctx)
	d, own := cl.timeout(l.timeout)
	switch {
	case own && (cl.bounded || d <= 0):
		return ctx, nil
	case own:
		cl.bounded = true
		return context.WithTimeout(ctx, d)
	}
	if _, ok := ctx.Deadline(); !ok && d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return ctx, nil
}

// sleep waits for d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// readBody reads and closes resp.Body. A 2xx body is read whole, up to
// maxBody; any other body only up to drainLimit, which is enough for an
// error message and lets the connection be reused. A body that is longer
// is an error, not an out-of-memory crash.
func (l *requestLoop) readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	limit := l.maxBody
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if !ok {
		limit = drainLimit
	}
	if ok && resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: Content-Length %d exceeds the limit of %d bytes", ErrResponseTooLarge, resp.ContentLength, limit)
	}
	body, more, err := readUpTo(resp.Body, resp.ContentLength, limit, !ok)
	if err != nil {
		if ok {
			return nil, err
		}
		// A broken error body still leaves a useful status.
		return body, nil
	}
	if more && ok {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return body, nil
}

// readChunkMax caps the chunks readUpTo reads a body of unknown length into.
const readChunkMax = 1 << 20

// readUpTo reads r until EOF, or until it has read more than limit bytes,
// in which case more is true and r is left unread past limit+1 bytes. It
// returns what it read, at most limit bytes; when more is true it returns
// them only if wantPrefix is set, and nil otherwise. A read error ends it with
// what was read so far.
//
// It allocates little more than what it keeps. With sizeHint (the
// Content-Length, or -1) in [0, limit], it reads into one buffer of
// sizeHint+1 bytes, the +1 to meet EOF without growing. Otherwise it reads
// into chunks that double from 512 bytes up to readChunkMax and joins them
// at the end. A doubling buffer, as bytes.Buffer and io.ReadAll use, would
// allocate about three times the body over its regrowths: 32 MiB for a
// stream cut at the default 10 MiB limit.
func readUpTo(r io.Reader, sizeHint, limit int64, wantPrefix bool) (body []byte, more bool, err error) {
	size := int64(512)
	if sizeHint >= 0 && sizeHint <= limit {
		size = sizeHint + 1
	}
	size = min(size, limit+1)
	var (
		full  [][]byte // filled chunks before cur
		cur   = make([]byte, 0, size)
		total int64 // bytes read, in full and cur
		empty int   // consecutive reads that returned nothing
	)
	for total <= limit {
		if len(cur) == cap(cur) {
			full = append(full, cur)
			cur = make([]byte, 0, min(2*int64(cap(cur)), readChunkMax, limit+1-total))
		}
		n, rerr := r.Read(cur[len(cur):cap(cur)])
		cur = cur[:len(cur)+n]
		total += int64(n)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
		if n > 0 {
			empty = 0
		} else if empty++; empty >= 100 {
			err = io.ErrNoProgress
			break
		}
	}
	more = total > limit
	if more && !wantPrefix {
		return nil, true, err
	}
	if len(full) == 0 {
		body = cur
	} else {
		body = make([]byte, 0, total)
		for _, c := range full {
			body = append(body, c...)
		}
		body = append(body, cur...)
	}
	if more {
		body = body[:limit]
	}
	return body, more, err
}

// checkURL refuses a request outside the base URL, so that the key never
// goes anywhere else and ".." cannot climb out of the API's path.
func (l *requestLoop) checkURL(u *url.URL) error {
	if u.Scheme != l.base.Scheme || u.Host != l.base.Host {
		return fmt.Errorf("%w: %s://%s is not %s://%s", ErrOutsideBaseURL, u.Scheme, u.Host, l.base.Scheme, l.base.Host)
	}
	p := u.EscapedPath()
	if !strings.HasPrefix(p, l.basePath) || len(p) == len(l.basePath) {
		return fmt.Errorf("%w: path %q is not below %q", ErrOutsideBaseURL, p, l.basePath)
	}
	for seg := range strings.SplitSeq(p[len(l.basePath):], "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%w: path %q has a dot segment", ErrOutsideBaseURL, p)
		}
	}
	return nil
}

// checkRedirect is installed on the HTTP client: it keeps the caller's own
// policy, caps the chain, and drops the Authorization header whenever a
// redirect leaves the base URL's scheme, host and port. net/http drops it
// only when the host name changes, which still lets it reach another port
// or a downgrade from https to http.
func (l *requestLoop) checkRedirect(inner func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return ErrTooManyRedirects
		}
		if req.URL.Scheme != l.base.Scheme || req.URL.Host != l.base.Host {
			req.Header.Del("Authorization")
		}
		if inner != nil {
			return inner(req, via)
		}
		return nil
	}
}

// unwrapURLError drops net/http's *url.Error wrapper, whose message repeats
// the method and full URL that RequestError already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// isCertificateError reports a TLS failure that a retry cannot fix.
func isCertificateError(err error) bool {
	var (
		verr  *tls.CertificateVerificationError
		uaerr x509.UnknownAuthorityError
		herr  x509.HostnameError
		cierr x509.CertificateInvalidError
		rherr tls.RecordHeaderError
	)
	return errors.As(err, &verr) || errors.As(err, &uaerr) || errors.As(err, &herr) ||
		errors.As(err, &cierr) || errors.As(err, &rherr)
}
