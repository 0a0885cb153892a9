package pagecall

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// This file holds the request loop: the one place where a call is checked,
// bounded, sent, retried, decoded and ended. A call reads top to bottom:
// invoke (or Client.Do) → call → exchange (gate, send, account, nextWait
// for each attempt) → decode → end. docs/ARCHITECTURE.md walks through it.

// requestLoop holds what every call of a Client shares: the key, the
// policy, the budget, the limits and the HTTP client.
type requestLoop struct {
	hc        *http.Client // a copy of the caller's, with our redirect guard
	base      *url.URL
	server    string        // base.String() with one trailing slash, for the request builders
	root      string        // base.String() without a trailing slash, for operation.expand
	basePath  string        // base.EscapedPath() with one trailing slash
	auth      func() string // "Bearer <key>"; see secretHeader
	userAgent []string      // the one User-Agent value; see WithUserAgent
	policy    RetryPolicy
	budget    *retryBudget
	pause     *pause        // the client-wide wait a Retry-After asks for
	limiter   *rate.Limiter // WithRateLimit; nil for none
	shared    *shared       // WithSharedLimits; nil for none
	timeout   time.Duration
	maxBody   int64
	strict    bool      // WithStrictResponses
	drift     *driftLog // what reportDrift has logged
	hooks     *hookSet  // WithHooks; nil for none
	log       *slog.Logger
	now       func() time.Time
}

// operation describes one operation of the spec for the request loop. The
// generated methods declare one per operation and never change it.
type operation struct {
	id     string // the spec's operationId, e.g. "DeleteUser"; "" for Client.Do
	method string // e.g. "DELETE"
	path   string // the spec's path template, e.g. "/users/{user_id}"; "" for Client.Do
	// idempotent marks a POST or PATCH that Pagecall documents as safe to
	// replay (x-pagecall-idempotent in api/overlay.yaml): it is retried as
	// a PUT is.
	idempotent bool
	// result is set when the 200 answer carries a JSON body that the
	// method returns: any other 2xx answer is then malformed.
	result bool
	// raw marks a Client.Do call: its answer is decoded as Client.Do says.
	raw bool
}

// builder builds the request of a call below server (the base URL with a
// trailing slash), in ctx or without one. The generated methods of
// operations with a query or a body wrap the generated package's
// NewXxxRequest; the others pass nil, and the loop builds the request from
// the operation's path itself, parsing one URL instead of three.
type builder func(ctx context.Context, server string) (*http.Request, error)

// invoke is the one entry of every generated method: it runs a call of op
// (see call) and returns the 200 answer's JSON body, decoded into a new T.
func invoke[T any](ctx context.Context, c *Client, op *operation, opts []CallOption, build builder, pathValues ...string) (*T, error) {
	out := new(T)
	if err := c.loop.call(ctx, op, opts, pathValues, build, out); err != nil {
		return nil, err
	}
	return out, nil
}

// call runs one call from start to end: its state (only when options, an
// operation mark or hooks need one: a plain call has none), its path
// parameters, its one timeout, the request, the attempts, the decoding of
// the answer into out, and its end, which every outcome reaches once.
func (l *requestLoop) call(ctx context.Context, op *operation, opts []CallOption, pathValues []string, build builder, out any) error {
	var cl *call
	if len(opts) > 0 || op.idempotent || l.hooks != nil {
		var err error
		if cl, err = newCall(op, opts, l.now(), l.hooks); err != nil {
			return err
		}
	}
	if err := checkPath(op.path, pathValues); err != nil {
		if cl != nil {
			cl.refused()
		}
		return err
	}
	if cl != nil {
		ctx = cl.started(ctx)
	}
	ctx, cancel := l.bound(ctx, cl)
	if cancel != nil {
		defer cancel()
	}
	resp, body, attempts, err := l.exchange(ctx, cl, op, build, pathValues)
	var drift []FieldDrift
	if err == nil {
		drift, err = l.decode(ctx, op, resp, body, attempts, out)
	}
	if cl != nil {
		cl.end(ctx, resp, body, attempts, drift, l.now(), err)
	}
	return err
}

// bound bounds ctx by the call's own timeout (WithCallTimeout), which a
// shorter deadline of ctx still beats, or else by the client's when ctx has
// no deadline of its own. It returns a nil cancel when it added nothing.
func (l *requestLoop) bound(ctx context.Context, cl *call) (context.Context, context.CancelFunc) {
	d, own := l.timeout, false
	if cl != nil && cl.opts.timeoutSet {
		d, own = cl.opts.timeout, true
	}
	if d <= 0 {
		return ctx, nil
	}
	if _, has := ctx.Deadline(); has && !own {
		return ctx, nil
	}
	return context.WithTimeout(ctx, d)
}

// attempt is what one attempt of a call came to.
type attempt struct {
	n         int            // 1-based
	resp      *http.Response // a 2xx answer; nil otherwise
	body      []byte         // the 2xx answer's body, read whole
	err       error          // the transport's error, if it sent nothing back
	fail      error          // what the caller gets if this is the end
	retryable bool           // the policy allows another attempt for this method
	wait      time.Duration  // the server's Retry-After, when hasWait
	hasWait   bool
}

// exchange builds the request and sends it, retrying as the policy
// allows, until a 2xx answer (returned with its body read into memory) or
// an error: *APIError for a non-2xx answer, *RequestError for anything
// else. attempts is the number of requests sent.
func (l *requestLoop) exchange(ctx context.Context, cl *call, op *operation, build builder, pathValues []string) (resp *http.Response, body []byte, attempts int, err error) {
	var req *http.Request
	if build == nil {
		req, err = http.NewRequestWithContext(ctx, op.method, op.expand(l.root, pathValues), nil)
	} else {
		req, err = build(ctx, l.server)
	}
	if err != nil {
		if _, ok := err.(*RequestError); ok {
			return nil, nil, 0, err
		}
		return nil, nil, 0, &RequestError{Method: op.method, Path: op.expand(strings.TrimSuffix(l.basePath, "/"), pathValues), Err: unwrapURLError(err)}
	}
	if req.Context() != ctx {
		req = req.WithContext(ctx)
	}
	if req, err = l.prepare(req, cl); err != nil {
		return nil, nil, 0, err
	}
	marked, maxRetries := false, l.policy.MaxRetries // marked: safe to replay whatever the method
	if cl != nil {
		marked, maxRetries = cl.opts.idempotent, cl.maxRetries(maxRetries)
	}
	var hold budgetHold // what this call's failures took from the retry budget
	var answered error  // the last error answer (*APIError) of an earlier attempt
	for n := 1; ; n++ {
		if err := l.gate(ctx, cl, req.Method, req.URL.EscapedPath(), n); err != nil {
			return nil, nil, n - 1, err // a pause or rate-limit wait that the deadline or context ended
		}
		if req, err = rewind(req, n); err != nil {
			return nil, nil, n - 1, err
		}
		if cl != nil {
			cl.attemptStarted(ctx, req, n)
		}
		a := l.send(ctx, req, n, marked)
		if a.resp != nil {
			l.onAnswer(&hold)
			if cl != nil {
				cl.attemptEnded(ctx, a, 0, retryNot)
			}
			return a.resp, a.body, n, nil
		}
		granted := l.account(ctx, &hold, a)
		wait, next := l.nextWait(ctx, req, a, maxRetries, granted)
		if cl != nil {
			cl.attemptEnded(ctx, a, wait, next)
		}
		if next != retryNow {
			return nil, nil, n, withLastAnswer(a.fail, answered)
		}
		if _, ok := a.fail.(*APIError); ok {
			answered = a.fail
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, nil, n, &RequestError{Method: req.Method, Path: req.URL.EscapedPath(), Attempts: n, Err: err, Last: a.fail}
		}
	}
}

// withLastAnswer gives a final attempt that got no answer (a timeout after a
// 503, say) the error answer of an earlier attempt as its Last, so that the
// call still reports the last status the server sent.
func withLastAnswer(fail, answered error) error {
	if re, ok := fail.(*RequestError); ok && re.Last == nil && answered != nil {
		re.Last = answered
	}
	return fail
}

// prepare checks where req goes and readies it for every attempt: the body
// buffered so that each attempt sends the same bytes, and the headers set.
func (l *requestLoop) prepare(req *http.Request, cl *call) (*http.Request, error) {
	if err := l.checkURL(req.URL); err != nil {
		return nil, &RequestError{Method: req.Method, Path: req.URL.EscapedPath(), Err: err}
	}
	req, err := cl.edit(req) // WithJSONSet, WithJSONDel, WithQuery: jsonedit.go
	if err != nil {
		return nil, err
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, &RequestError{Method: req.Method, Path: req.URL.EscapedPath(), Err: err}
		}
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.Body, _ = req.GetBody()
	}
	if cl != nil {
		cl.addHeaders(req.Header)
	}
	req.Header.Set("Authorization", l.auth())
	// One slice shared by every request, so that identity costs no
	// allocation; nothing appends to it (its capacity is 1).
	req.Header["User-Agent"] = l.userAgent
	return req, nil
}

// gate holds attempt number attempt of a call until the client-wide pause
// (and the fleet's, with WithSharedLimits) is over and the rate limits let
// it go. Its error ends the call.
func (l *requestLoop) gate(ctx context.Context, cl *call, method, path string, attempt int) error {
	if err := l.pause.wait(ctx, l.log, cl, method, path, attempt-1); err != nil {
		return err
	}
	if l.shared != nil {
		if until, status := l.shared.lim.PausedUntil(); until.After(time.Now()) {
			l.pause.holdUntil(ctx, l.log, until, fleetPause(status))
			if err := l.pause.wait(ctx, l.log, cl, method, path, attempt-1); err != nil {
				return err
			}
		}
	}
	if l.limiter == nil && l.shared == nil {
		return nil
	}
	if l.limiter != nil {
		if err := l.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			} else {
				// x/time/rate refuses at once a wait that would outlast the
				// deadline, with an error of its own; say it as a deadline.
				err = fmt.Errorf("%w: the rate limit (WithRateLimit) would hold the request past the deadline", context.DeadlineExceeded)
			}
			return &RequestError{Method: method, Path: path, Attempts: attempt - 1, Err: err}
		}
	}
	if l.shared != nil {
		if err := l.shared.wait(ctx); err != nil {
			return &RequestError{Method: method, Path: path, Attempts: attempt - 1, Err: err}
		}
	}
	// A pause that began while this call waited for a limiter holds it too.
	return l.pause.wait(ctx, l.log, cl, method, path, attempt-1)
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
// memory), or a failure, retryable or not (for its method, or for any
// method when marked idempotent), with the wait the server asked for.
func (l *requestLoop) send(ctx context.Context, req *http.Request, n int, marked bool) attempt {
	a := attempt{n: n}
	resp, err := l.hc.Do(req)
	var body []byte
	if err == nil {
		body, err = l.readBody(resp)
	}
	switch {
	case err != nil:
		a.err = err
		a.retryable = ctx.Err() == nil && retryableError(marked || isIdempotent(req.Method), err)
		a.fail = &RequestError{Method: req.Method, Path: req.URL.EscapedPath(), Attempts: n, Err: unwrapURLError(err)}
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		if l.log.Enabled(ctx, slog.LevelDebug) {
			l.log.DebugContext(ctx, "pagecall: attempt succeeded", "method", req.Method, "path", req.URL.EscapedPath(), "attempt", n, "status", resp.StatusCode)
		}
		resp.Body = http.NoBody // read whole into body, and closed
		resp.ContentLength = int64(len(body))
		a.resp, a.body = resp, body
	default:
		a.retryable = retryableStatus(marked || isIdempotent(req.Method), resp.StatusCode)
		if honoursRetryAfter(resp.StatusCode) {
			a.wait, a.hasWait = parseRetryAfter(resp.Header.Get("Retry-After"), l.now())
		}
		a.fail = l.scrub(newAPIError(req.Method, req.URL.EscapedPath(), n, resp, body, l.now()))
	}
	return a
}

// account charges a failed attempt to the retry budget (and the fleet's),
// and to the client-wide pause (and the fleet's) when the server asked to
// wait. It reports whether the budget grants a retry. The budget counts
// failures of the service (those that would be retried were the request
// idempotent), whatever this method allows.
func (l *requestLoop) account(ctx context.Context, hold *budgetHold, a attempt) (granted bool) {
	if a.err != nil && retryableError(true, a.err) || a.err == nil && retryableStatus(true, statusOf(a.fail)) {
		cost := retryCost(a.err)
		granted = l.budget.onFailure(hold, cost)
		if l.shared != nil && !l.budget.off {
			granted = l.shared.spend(ctx, hold, cost, granted)
		}
	} else if a.err == nil {
		l.onAnswer(hold) // the server is answering; this is not an outage
	}
	if a.hasWait {
		if until, status, held := l.pause.hold(ctx, l.log, a.wait, l.policy.MaxRetryAfter, a.fail); held && l.shared != nil {
			l.shared.pause(ctx, until, status)
		}
	}
	return granted
}

// onAnswer gives back to the budget (and the fleet's) what the call's
// failed attempts took, or the reward of a call answered at once.
func (l *requestLoop) onAnswer(hold *budgetHold) {
	if l.shared != nil && !l.budget.off {
		l.shared.refund(hold)
	}
	l.budget.onAnswer(hold)
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

// nullToken is what makes decode look closer at an answer encoding/json
// took: encoding/json accepts null for any field, the spec does not. So
// does a missing member the model requires (see shape.present).
var nullToken = []byte("null")

// decode decodes the 2xx answer resp (its body read into body) into out,
// and reports where it left the spec. Pagecall reported success, so a
// field that does not fit is drift, not failure (see decodeLenient),
// unless the client is strict or nothing fitted at all. A generated
// operation's answer must be a 200 with a JSON body; a Client.Do answer
// may be anything when out is nil or the body is empty.
func (l *requestLoop) decode(ctx context.Context, op *operation, resp *http.Response, body []byte, attempts int, out any) ([]FieldDrift, error) {
	switch {
	case op.raw:
		if out == nil || len(bytes.TrimSpace(body)) == 0 {
			return nil, nil
		}
		if !json.Valid(body) {
			return nil, malformed(op, resp, attempts)
		}
	case !op.result:
		return nil, nil
	case !strings.Contains(resp.Header.Get("Content-Type"), "json"):
		return nil, malformed(op, resp, attempts)
	}
	if json.Unmarshal(body, out) == nil && !bytes.Contains(body, nullToken) && l.drift.shapes.of(reflect.TypeOf(out)).present(body) {
		return nil, nil
	}
	if !op.raw {
		if !json.Valid(body) {
			return nil, malformed(op, resp, attempts)
		}
		reflect.ValueOf(out).Elem().SetZero() // drop what the failed decoding left
	}
	drift := decodeLenient(body, out, l.apiKey())
	if len(drift) == 0 {
		return nil, nil
	}
	l.reportDrift(ctx, op, resp, drift)
	if l.strict || wholeBodyDrifted(drift) {
		return drift, driftError(op, resp, attempts, drift)
	}
	return drift, nil
}

// malformed is the error for a 2xx answer without the JSON body the spec
// promises.
func malformed(op *operation, resp *http.Response, attempts int) error {
	status, ct := 0, ""
	if resp != nil {
		status, ct = resp.StatusCode, resp.Header.Get("Content-Type")
	}
	return &RequestError{
		Method: op.method, Path: requestPath(resp), Attempts: attempts,
		Err: fmt.Errorf("%w: %d answer with content type %q, want JSON", ErrMalformedResponse, status, ct),
	}
}

// requestPath returns the escaped path of the request behind resp.
func requestPath(resp *http.Response) string {
	if resp == nil || resp.Request == nil || resp.Request.URL == nil {
		return ""
	}
	return resp.Request.URL.EscapedPath()
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

// Input safety: nothing leaves that could climb out of the base URL.

// checkPath validates each path parameter against its name in the path
// template path (given in path order).
func checkPath(path string, values []string) error {
	rest := path
	for _, v := range values {
		before, name, after, ok := nextParam(rest)
		if !ok {
			break
		}
		// A user's ID is the parameter named user_id, or whatever follows
		// "users/" (the 2023 documents call it id).
		user := name == "user_id" || strings.HasSuffix(before, "users/")
		if err := validatePathParam(name, v, user); err != nil {
			return err
		}
		rest = after
	}
	return nil
}

// nextParam splits a path template around its first {parameter}.
func nextParam(path string) (before, name, after string, ok bool) {
	before, rest, ok := strings.Cut(path, "{")
	if !ok {
		return path, "", "", false
	}
	name, after, ok = strings.Cut(rest, "}")
	return before, name, after, ok
}

// expand returns prefix (an origin and base path, or a base path, without
// its trailing slash) followed by op's path with values, escaped, in place
// of its parameters: one allocation.
func (op *operation) expand(prefix string, values []string) string {
	n := len(prefix) + len(op.path)
	for _, v := range values {
		n += 3 * len(v)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(prefix)
	rest := op.path
	for _, v := range values {
		before, _, after, ok := nextParam(rest)
		if !ok {
			break
		}
		b.WriteString(before)
		b.WriteString(url.PathEscape(v))
		rest = after
	}
	b.WriteString(rest)
	return b.String()
}

// validatePathParam refuses the values that cannot be sent as one path
// segment: "", "." and ".." (a URL resolver would drop or climb them, so
// DELETE /v1/users/.. would become DELETE /v1/). Every other string is
// valid, and is percent-encoded when sent.
func validatePathParam(name, value string, user bool) error {
	switch value {
	case "":
		return &PathParamError{Param: name, Reason: "empty", user: user}
	case ".", "..":
		return &PathParamError{Param: name, Reason: fmt.Sprintf("%q is a dot segment", value), user: user}
	}
	return nil
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
