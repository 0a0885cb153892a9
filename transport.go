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
	hc       *http.Client // a copy of the caller's, with our redirect guard
	base     *url.URL
	basePath string        // base.EscapedPath() with one trailing slash
	auth     func() string // "Bearer <key>"; see secretHeader
	policy   RetryPolicy
	budget   *retryBudget
	pause    *pause        // the client-wide wait a Retry-After asks for
	limiter  *rate.Limiter // WithRateLimit; nil for none
	timeout  time.Duration
	maxBody  int64
	log      *slog.Logger
	now      func() time.Time
}

// Do sends req, retrying as the policy allows, and returns a 2xx response
// whose body is already read into memory, or an error: *APIError for a
// non-2xx answer, *RequestError for anything else.
func (l *requestLoop) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if tctx, cancel := l.withTimeout(ctx); cancel != nil {
		defer cancel()
		ctx = tctx
		req = req.WithContext(ctx)
	}
	path := req.URL.EscapedPath()
	if err := l.checkURL(req.URL); err != nil {
		return nil, &RequestError{Method: req.Method, Path: path, Err: err}
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		// Buffer the body once so that every attempt sends the same bytes.
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, &RequestError{Method: req.Method, Path: path, Err: err}
		}
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.Body, _ = req.GetBody()
	}
	req.Header.Set("Authorization", l.auth())

	idempotent := requestIsIdempotent(req)
	debug := l.log.Enabled(ctx, slog.LevelDebug)
	var hold budgetHold // what this call's failures took from the retry budget
	for attempt := 1; ; attempt++ {
		if err := l.gate(ctx, req.Method, path, attempt); err != nil {
			return nil, err // a pause or rate-limit wait that the deadline or context ended
		}
		noteAttempt(ctx, attempt)
		if attempt > 1 && req.GetBody != nil {
			r := *req // the previous attempt's body is spent: send a fresh copy
			body, err := req.GetBody()
			if err != nil {
				return nil, &RequestError{Method: req.Method, Path: path, Attempts: attempt - 1, Err: err}
			}
			r.Body = body
			req = &r
		}
		resp, err := l.hc.Do(req)
		var body []byte
		if err == nil {
			body, err = l.readBody(resp)
		}

		// Classify the attempt.
		var (
			fail      error // what the caller gets if this is the end
			retryable bool
			wait      time.Duration
			hasWait   bool
		)
		switch {
		case err != nil:
			retryable = ctx.Err() == nil && retryableError(idempotent, err)
			fail = &RequestError{Method: req.Method, Path: path, Attempts: attempt, Err: unwrapURLError(err)}
		case resp.StatusCode >= 200 && resp.StatusCode <= 299:
			l.budget.onAnswer(&hold)
			if debug {
				l.log.DebugContext(ctx, "pagecall: attempt succeeded", "method", req.Method, "path", path, "attempt", attempt, "status", resp.StatusCode)
			}
			mb := &memBody{}
			mb.Reset(body)
			resp.Body = mb
			resp.ContentLength = int64(len(body))
			return resp, nil
		default:
			retryable = retryableStatus(idempotent, resp.StatusCode)
			if honoursRetryAfter(resp.StatusCode) {
				wait, hasWait = ParseRetryAfter(resp.Header.Get("Retry-After"), l.now())
			}
			fail = l.scrub(newAPIError(req.Method, path, attempt, resp, body, l.now()))
		}
		// The budget counts failures of the service (those that would be
		// retried were the request idempotent), whatever this method allows.
		granted := false
		if err != nil && RetryableError(http.MethodGet, err) || err == nil && RetryableStatus(http.MethodGet, resp.StatusCode) {
			granted = l.budget.onFailure(&hold, retryCost(err))
		} else if err == nil {
			l.budget.onAnswer(&hold) // the server is answering; this is not an outage
		}
		if hasWait {
			l.pause.hold(ctx, l.log, wait, l.policy.MaxRetryAfter, fail)
		}
		if !retryable {
			return nil, fail
		}

		retry := attempt // the retry this would be, 1-based
		if retry > l.policy.MaxRetries {
			return nil, fail
		}
		if !hasWait {
			wait = l.policy.Backoff(retry)
		}
		if debug {
			l.log.DebugContext(ctx, "pagecall: attempt failed", "method", req.Method, "path", path, "attempt", attempt, "error", fail.Error(), "wait", wait, "budget_tokens", l.budget.tokens())
		}
		if hasWait && wait > l.policy.MaxRetryAfter {
			return nil, fail
		}
		if deadline, ok := ctx.Deadline(); ok && l.now().Add(wait).After(deadline) {
			// Sleeping would end in a timeout anyway: report what we have.
			return nil, fail
		}
		if !granted {
			if debug {
				l.log.DebugContext(ctx, "pagecall: retry budget exhausted, not retrying", "method", req.Method, "path", path, "attempt", attempt, "budget_tokens", l.budget.tokens())
			}
			return nil, fail
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, &RequestError{Method: req.Method, Path: path, Attempts: attempt, Err: err, Last: fail}
		}
	}
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
// WriteTo.
type memBody struct{ bytes.Reader }

// Close does nothing: there is nothing left to release.
func (*memBody) Close() error { return nil }

// withTimeout bounds ctx by the client's timeout when ctx has no deadline
// of its own; otherwise it returns ctx and a nil cancel.
func (l *requestLoop) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); !ok && l.timeout > 0 {
		return context.WithTimeout(ctx, l.timeout)
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
