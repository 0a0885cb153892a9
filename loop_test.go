package pagecall

// Tests that pin behaviours of the request loop which a mutation audit
// showed no other test would miss (docs/RELIABILITY.md, "Mutation audit").

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// relAttempt is what a server saw of one attempt.
type relAttempt struct {
	auth, body string
}

// TestAuthOnEveryAttemptWithBody: a retried request that has a body (a PUT
// retried after 503s, a POST retried after a 429) carries the key and the
// same body on every attempt.
func TestAuthOnEveryAttemptWithBody(t *testing.T) {
	const body = `{"name":"scotty"}`
	tests := []struct {
		name   string
		status int
		fails  int
		call   func(ctx context.Context, c *Client) error
	}{
		{"PUT UpdateUser after two 503s", http.StatusServiceUnavailable, 2, func(ctx context.Context, c *Client) error {
			return c.Do(ctx, http.MethodPut, "/users/u1", []byte(body), nil)
		}},
		{"POST CreateRoom after a 429", http.StatusTooManyRequests, 1, func(ctx context.Context, c *Client) error {
			return c.Do(ctx, http.MethodPost, "/rooms", []byte(body), nil)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				seen []relAttempt
			)
			base, _ := relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				seen = append(seen, relAttempt{r.Header.Get("Authorization"), string(b)})
				mu.Unlock()
				if n <= int64(tt.fails) {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(tt.status)
					return
				}
				relWriteUser(w, "u1")
			})
			c := relClient(t, base)
			_ = tt.call(context.Background(), c) // the answer's shape is not the point
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != tt.fails+1 {
				t.Fatalf("%d attempts, want %d", len(seen), tt.fails+1)
			}
			for i, a := range seen {
				if a.auth != "Bearer "+relKey {
					t.Errorf("attempt %d: Authorization %q, want the key", i+1, a.auth)
				}
				if a.body != body {
					t.Errorf("attempt %d: body %q, want %q", i+1, a.body, body)
				}
			}
		})
	}
}

// TestURLGuardRefusesDotSegments: a request whose path climbs out of the
// base URL with ".." is refused before anything is sent.
func TestURLGuardRefusesDotSegments(t *testing.T) {
	base, hits := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) { relWriteUser(w, "u1") })
	c := relClient(t, base)
	for name, call := range map[string]func() error{
		"rewritten path /v1/rooms/../../admin": func() error {
			req, _ := http.NewRequest(http.MethodGet, c.BaseURL()+"/rooms/r1", nil)
			req.URL.Path = "/v1/rooms/../../admin"
			return sendRaw(c, req)
		},
		"room ID ..": func() error {
			_, err := c.GetRoom(context.Background(), "..")
			if errors.Is(err, ErrInvalidPathParam) {
				err = fmt.Errorf("%w: %w", ErrOutsideBaseURL, err) // refused earlier still: the method checks its path parameters
			}
			return err
		},
	} {
		err := call()
		if !errors.Is(err, ErrOutsideBaseURL) {
			t.Errorf("%s: err = %v, want ErrOutsideBaseURL", name, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server, want none", n)
	}
}

// TestFailedPOSTLowersBudget: a POST answered 503 is not retried, but it
// is a failure of the service and lowers the budget all the same.
func TestFailedPOSTLowersBudget(t *testing.T) {
	base, hits := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := relClient(t, base)
	before := c.RetryBudget()
	err := c.Do(context.Background(), http.MethodPost, "/rooms", []byte(`{}`), nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want the 503", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d attempts, want 1 (a POST is not retried after a 503)", n)
	}
	if after := c.RetryBudget(); after != before-budgetRetryCost {
		t.Errorf("RetryBudget() went from %.0f to %.0f, want it lowered by %d", before, after, budgetRetryCost)
	}
}

// TestRetryAfterEqualToCapIsWaited: a Retry-After exactly MaxRetryAfter is
// within the cap, so it is waited out and the call retried.
func TestRetryAfterEqualToCapIsWaited(t *testing.T) {
	base, hits := relServer(t, relFailThenOK(1, http.StatusTooManyRequests, map[string]string{"Retry-After": "1"}, ""))
	policy := relFastPolicy
	policy.MaxRetryAfter = time.Second
	c := relClient(t, base, WithRetryPolicy(policy))
	start := time.Now()
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %v, want the 1s wait honoured", d)
	}
}

// TestParserErrorPathEscaped: when the generated parser fails on a 2xx
// body, the *RequestError names the request by its escaped path, as sent.
func TestParserErrorPathEscaped(t *testing.T) {
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"user":`)
	})
	c := relClient(t, base)
	_, err := c.DeleteUser(context.Background(), "a/b")
	var reqErr *RequestError
	if !errors.As(err, &reqErr) || !errors.Is(err, ErrMalformedResponse) {
		t.Fatalf("err = %v, want a *RequestError with ErrMalformedResponse", err)
	}
	if reqErr.Method != http.MethodDelete || reqErr.Path != "/v1/users/a%2Fb" {
		t.Errorf("request named %s %s, want DELETE /v1/users/a%%2Fb", reqErr.Method, reqErr.Path)
	}
}

// TestErrorMessagePrecedence: of the JSON fields an error body may have,
// "message" wins over "error", which wins over "detail" and "title".
func TestErrorMessagePrecedence(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{`{"error":"from error","message":"from message"}`, "from message"},
		{`{"message":"from message","error":"from error"}`, "from message"},
		{`{"title":"from title","error":"from error"}`, "from error"},
		{`{"title":"from title","detail":"from detail"}`, "from detail"},
		{`{"message":"","error":"from error"}`, "from error"},
	} {
		if got := errorMessage("application/json", []byte(tt.body)); got != tt.want {
			t.Errorf("errorMessage(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

// TestNoPartOfKeyShown: beyond the whole key, no format verb and no debug
// log line shows any part of it: not its first or last characters, nor
// any run of 4 of them.
func TestNoPartOfKeyShown(t *testing.T) {
	const key = "QX7ZK9VW3JQ8YXZ4MKP2"
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	var logs bytes.Buffer
	text := slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true})
	c, err := NewClient(WithAPIKey(key), WithBaseURL(base), WithRetryPolicy(relFastPolicy), WithLogger(slog.New(text)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.loop.hc.CloseIdleConnections)
	c.loop.budget.left.Store(budgetRetryCost) // one retry, then a refusal: every log line
	_, callErr := c.DeleteUser(context.Background(), "u1")
	_, _ = c.DeleteUser(context.Background(), "u1")
	if callErr == nil {
		t.Fatal("call succeeded against a 503 server")
	}
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("caller", "client", c, "err", callErr, "loop", c.loop)

	outputs := map[string]string{"logs": logs.String()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		outputs[verb+" client"] = fmt.Sprintf(verb, c)
		outputs[verb+" client value"] = fmt.Sprintf(verb, *c)
		outputs[verb+" loop"] = fmt.Sprintf(verb, *c.loop)
		outputs[verb+" error"] = fmt.Sprintf(verb, callErr)
	}
	for name, out := range outputs {
		for i := 0; i+4 <= len(key); i++ {
			if part := key[i : i+4]; strings.Contains(out, part) {
				t.Errorf("%s shows %q, part of the key: %s", name, part, out)
				break
			}
		}
	}
	if !strings.Contains(logs.String(), "retry budget exhausted") {
		t.Errorf("the log lacks the refusal line; the check above saw less than it should: %s", logs.String())
	}
}

// TestErrorMessageBounded: a huge message, in a JSON field or a text body,
// is cut to 512 bytes and marked, so that one answer cannot make an error
// line of megabytes.
func TestErrorMessageBounded(t *testing.T) {
	long := strings.Repeat("é", 4000)
	for name, body := range map[string]string{
		"JSON message": `{"message":"` + long + `"}`,
		"JSON error":   `{"error":{"message":"` + long + `"}}`,
		"text":         long,
	} {
		got := errorMessage("", []byte(body))
		if len(got) > maxMessage+len("…") || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
			t.Errorf("%s: message of %d bytes ending %q, want at most %d bytes, valid UTF-8, ending with …", name, len(got), got[max(0, len(got)-8):], maxMessage)
		}
	}
}

// TestRetryAfterOnlyFor429And503: a Retry-After on another status is not
// the server asking for a pause: a 500 is retried after the usual backoff,
// and nothing pauses the client.
func TestRetryAfterOnlyFor429And503(t *testing.T) {
	base, hits := relServer(t, relFailThenOK(1, http.StatusInternalServerError, map[string]string{"Retry-After": "20"}, ""))
	c := relClient(t, base)
	start := time.Now()
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second || hits.Load() != 2 {
		t.Errorf("%d attempts in %v: want the 500 retried after the 1 µs backoff, not after its Retry-After", hits.Load(), d)
	}
	if u := c.PausedUntil(); !u.IsZero() {
		t.Errorf("a 500's Retry-After paused the client until %v", u)
	}
}

// paddedBodyServer answers every request with status and a JSON object padded
// with blanks to n bytes, with its Content-Length.
func paddedBodyServer(t *testing.T, status, n int) *httptest.Server {
	t.Helper()
	body := `{"id":"u"}`
	body += strings.Repeat(" ", n-len(body))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBodyOfExactlyTheCap: a 2xx body of exactly WithMaxResponseBytes
// bytes is read; one byte more is ErrResponseTooLarge. (Found by gremlins:
// refusing a body as long as the cap passed every test.)
func TestBodyOfExactlyTheCap(t *testing.T) {
	const limit = 1000
	for _, tc := range []struct {
		n       int
		wantErr bool
	}{{limit, false}, {limit + 1, true}} {
		srv := paddedBodyServer(t, http.StatusOK, tc.n)
		c, err := NewClient(WithAPIKey("key"), WithBaseURL(srv.URL), WithMaxResponseBytes(limit))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetUser(context.Background(), "u")
		if gotErr := err != nil; gotErr != tc.wantErr {
			t.Errorf("body of %d bytes, cap %d: err %v, want error %v", tc.n, limit, err, tc.wantErr)
		}
	}
}

// TestCapOfOneByte: the smallest cap works: a 2xx body of one byte is
// read whole (and refused as no User), one of two is too large. (Found by
// gremlins: a first buffer of limit-1 bytes, empty for a cap of 1, made
// the read loop spin forever.)
func TestCapOfOneByte(t *testing.T) {
	for _, tc := range []struct {
		body string
		want error
	}{{"1", ErrMalformedResponse}, {"12", ErrResponseTooLarge}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(tc.body))
		}))
		c, err := NewClient(WithAPIKey("key"), WithBaseURL(srv.URL), WithMaxResponseBytes(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetUser(context.Background(), "u"); !errors.Is(err, tc.want) {
			t.Errorf("body %q, cap 1: %v, want %v", tc.body, err, tc.want)
		}
		srv.Close()
	}
}

// TestReadUpToStopsAtLimitPlusOne: readUpTo reads no more than limit+1
// bytes of a longer body, as its comment promises (what is left is
// drained or the connection closed, at the caller's choice), whatever the
// chunk sizes. (Found by gremlins: a chunk sized past limit+1 read on
// into the body and passed every test.)
func TestReadUpToStopsAtLimitPlusOne(t *testing.T) {
	const size = 1 << 20
	for _, limit := range []int64{1, 511, 512, 1000, 5000} {
		for _, hint := range []int64{-1, size} {
			r := strings.NewReader(strings.Repeat("x", size))
			body, more, err := readUpTo(r, hint, limit, true)
			if err != nil || !more || int64(len(body)) != limit {
				t.Fatalf("limit %d, hint %d: %d bytes, more %v, err %v; want %d bytes and more", limit, hint, len(body), more, err, limit)
			}
			if read := size - int64(r.Len()); read != limit+1 {
				t.Errorf("limit %d, hint %d: read %d bytes of the body, want limit+1 = %d", limit, hint, read, limit+1)
			}
		}
	}
}

// hiccupReader returns (0, nil) once before each of its reads of data, as
// io.Reader allows.
type hiccupReader struct {
	data   []byte
	paused bool
}

func (r *hiccupReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.paused = !r.paused; r.paused {
		return 0, nil
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReadUpToToleratesEmptyReads: a read that returns nothing now and
// then is no stuck body; only a long run of them (100) is. (Found by
// gremlins: giving up at the first empty read passed every test.)
func TestReadUpToToleratesEmptyReads(t *testing.T) {
	want := strings.Repeat("x", 3000)
	body, more, err := readUpTo(&hiccupReader{data: []byte(want)}, -1, 10000, false)
	if err != nil || more || string(body) != want {
		t.Fatalf("readUpTo = %d bytes, more %v, err %v; want the %d bytes", len(body), more, err, len(want))
	}
}

// TestUnwrapURLError: the *url.Error wrapper is dropped for its cause,
// whose message does not repeat the method and URL.
func TestUnwrapURLError(t *testing.T) {
	if got := unwrapURLError(&url.Error{Op: "Get", URL: "http://x/", Err: io.ErrUnexpectedEOF}); got != io.ErrUnexpectedEOF {
		t.Errorf("unwrapURLError = %v, want io.ErrUnexpectedEOF", got)
	}
	plain := errors.New("plain")
	if got := unwrapURLError(plain); got != plain {
		t.Errorf("unwrapURLError(plain) = %v", got)
	}
}

// TestRetryWaitsForBackoff: a retry after a 503 without Retry-After is not
// sent before the backoff's lower bound has passed since the answer. Only
// a lower bound is checked: a slower machine widens the gap, never
// narrows it. (Found by gremlins: sleep returning at once for every wait
// passed every test, because the waits for a Retry-After pause are also
// held by the pause itself.)
func TestRetryWaitsForBackoff(t *testing.T) {
	const backoff = 200 * time.Millisecond // drawn from [100ms, 200ms]
	var (
		mu       sync.Mutex
		answered time.Time // when the 503 was handed to the server to send
		arrived  time.Time // when the retry arrived
		calls    int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"message":"busy"}`))
			answered = time.Now()
			return
		}
		arrived = time.Now()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := NewClient(WithAPIKey("key"), WithBaseURL(srv.URL),
		WithRetryPolicy(RetryPolicy{MaxRetries: 1, InitialBackoff: backoff, MaxBackoff: backoff}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(context.Background(), "u"); err != nil {
		t.Fatalf("GetUser: %v, want success on the retry", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Fatalf("%d requests, want 2", calls)
	}
	if gap := arrived.Sub(answered); gap < backoff/2 {
		t.Errorf("the retry came %v after the 503, want at least the backoff's lower bound %v", gap, backoff/2)
	}
}

// TestMalformedNamesTheAnswer: the error for a 2xx answer without its JSON
// body names the status, the content type and the path, and a missing
// response does not panic. (Found by gremlins: the answer's status and
// content type could be dropped without a test failing.)
func TestMalformedNamesTheAnswer(t *testing.T) {
	op := &operation{method: http.MethodGet, path: "/users/{user_id}"}
	resp := &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"text/html"}},
		Request:    &http.Request{URL: &url.URL{Path: "/v1/users/u"}},
	}
	err := malformed(op, resp, 1)
	var re *RequestError
	if !errors.As(err, &re) || !errors.Is(err, ErrMalformedResponse) {
		t.Fatalf("malformed = %v, want a *RequestError wrapping ErrMalformedResponse", err)
	}
	want := `pagecall: GET /v1/users/u: malformed response: 200 answer with content type "text/html", want JSON`
	if err.Error() != want {
		t.Errorf("malformed = %q, want %q", err, want)
	}
	if err := malformed(op, nil, 1); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("malformed(op, nil, 1) = %v, want ErrMalformedResponse", err)
	}
}

// relRecordingTransport sends https requests through next and answers
// every plain http request itself with the user, recording the
// Authorization header each request carried. A redirect from an https
// base to http on the same host and port can so be observed without a
// second server, which could not listen on that port anyway.
type relRecordingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string // scheme + " " + Authorization, in order
}

func (rt *relRecordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.seen = append(rt.seen, req.URL.Scheme+" "+req.Header.Get("Authorization"))
	rt.mu.Unlock()
	if req.URL.Scheme == "https" {
		return rt.next.RoundTrip(req)
	}
	body := `{"user":{"user_id":"u1"}}`
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: req,
	}, nil
}

func (rt *relRecordingTransport) get() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.seen...)
}

// TestRedirectDowngradeSameHostAndPortDropsKey: a redirect from
// https://host:port/… to http://host:port/… keeps the host and the port,
// so net/http would forward the key in the clear; the client must not.
func TestRedirectDowngradeSameHostAndPortDropsKey(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(ts.Close)
	tlsClient := ts.Client()
	rt := &relRecordingTransport{next: tlsClient.Transport}
	t.Cleanup(tlsClient.CloseIdleConnections)
	c := relClient(t, ts.URL+"/v1", WithHTTPClient(&http.Client{Transport: rt}))
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	seen := rt.get()
	if len(seen) != 2 {
		t.Fatalf("requests %q, want the https one and its http redirect", seen)
	}
	if want := "https Bearer " + relKey; seen[0] != want {
		t.Fatalf("first request %q, want %q", seen[0], want)
	}
	if seen[1] != "http " {
		t.Errorf("the downgraded request to http on the same host and port carried Authorization: %q", strings.TrimPrefix(seen[1], "http "))
	}
}

// TestCallersCheckRedirectIsHonoured: a CheckRedirect given through
// WithHTTPClient still decides; http.ErrUseLastResponse makes the redirect
// the answer instead of following it.
func TestCallersCheckRedirectIsHonoured(t *testing.T) {
	base, hits := relServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("arrived") {
			relWriteUser(w, "u1")
			return
		}
		http.Redirect(w, r, r.URL.Path+"?arrived=1", http.StatusTemporaryRedirect)
	})
	var calls int
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		calls++
		return http.ErrUseLastResponse
	}}
	c := relClient(t, base, WithHTTPClient(hc))
	_, err := c.DeleteUser(context.Background(), "u1")
	if n := hits.Load(); n != 1 {
		t.Errorf("server got %d requests, want 1: the redirect was followed", n)
	}
	if calls != 1 {
		t.Errorf("the caller's CheckRedirect ran %d times, want 1", calls)
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("err = %v, want the 307 as an *APIError", err)
	}
}

// relConnWatch is a server whose connections report their closing: the
// handler streams an endless body (status given), and closed receives once
// for each connection the server saw closed.
func relConnWatch(t *testing.T, status int) (base string, closed chan struct{}) {
	closed = make(chan struct{}, 16)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		chunk := []byte(`{"user":{"user_id":"` + strings.Repeat("x", 32<<10))
		for {
			if _, err := w.Write(chunk); err != nil || r.Context().Err() != nil {
				return // the client hung up
			}
		}
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.URL + "/v1", closed
}

// relCallerBound is how long the caller's context lives in the tests of
// connection release: long past what releasing takes, short enough that a
// broken build fails the test instead of hanging it.
const relCallerBound = time.Minute

// relNoDeadlineBounded is a context without a deadline (so the client's
// own timeout would apply, were it set) that is cancelled after
// relCallerBound, so that a broken build cannot hang the test.
func relNoDeadlineBounded() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	stop := time.AfterFunc(relCallerBound, cancel)
	return ctx, func() { stop.Stop(); cancel() }
}

// TestConnReleasedUnderCallersDeadline: a body the client abandons (over
// WithMaxResponseBytes, or an error body past the drain limit) closes its
// connection at once, also when the caller, not the client, brings the
// deadline: then no cancel of the client's own timeout would end it.
func TestConnReleasedUnderCallersDeadline(t *testing.T) {
	cases := []struct {
		name   string
		status int
		opts   []Option
		ctx    func() (context.Context, context.CancelFunc)
		check  func(error) bool
	}{
		{"over WithMaxResponseBytes, caller's deadline", http.StatusOK,
			[]Option{WithMaxResponseBytes(64 << 10)},
			func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), relCallerBound)
			},
			func(err error) bool { return errors.Is(err, ErrResponseTooLarge) }},
		{"over WithMaxResponseBytes, WithTimeout(0)", http.StatusOK,
			[]Option{WithMaxResponseBytes(64 << 10), WithTimeout(0)},
			func() (context.Context, context.CancelFunc) { return relNoDeadlineBounded() },
			func(err error) bool { return errors.Is(err, ErrResponseTooLarge) }},
		{"error body past the drain limit, caller's deadline", http.StatusBadRequest,
			nil,
			func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), relCallerBound)
			},
			func(err error) bool {
				var e *APIError
				return errors.As(err, &e) && e.StatusCode == http.StatusBadRequest
			}},
		{"error body past the drain limit, WithTimeout(0)", http.StatusBadRequest,
			[]Option{WithTimeout(0)},
			func() (context.Context, context.CancelFunc) { return relNoDeadlineBounded() },
			func(err error) bool {
				var e *APIError
				return errors.As(err, &e) && e.StatusCode == http.StatusBadRequest
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, closed := relConnWatch(t, tc.status)
			c := relClient(t, base, tc.opts...)
			ctx, cancel := tc.ctx()
			defer cancel() // only after the check: the caller's context stays alive
			_, err := c.DeleteUser(ctx, "u1")
			if !tc.check(err) {
				t.Fatalf("DeleteUser: %v", err)
			}
			// Bounded wait, not a timing assertion: a leaked connection
			// stays open for as long as the caller's context, twice this
			// bound.
			select {
			case <-closed:
			case <-time.After(relCallerBound / 2):
				t.Fatal("the connection of the abandoned body is still open while the caller's context lives")
			}
		})
	}
}

// TestLimiterWaitHonoursPauseBegunMeanwhile: with WithRateLimit(1, 1),
// call A is sent and gets 429 Retry-After: 2 while call B waits for the
// limiter. B must then wait out the pause too: it reaches the server at
// or after PausedUntil, not when the limiter lets it go.
func TestLimiterWaitHonoursPauseBegunMeanwhile(t *testing.T) {
	// The scene needs B to be waiting on the limiter when A's 429 comes: on
	// a machine so loaded that the test misses the second in which B waits,
	// it is set again with a new client, up to three times.
	for try := 1; ; try++ {
		if relLimiterThenPause(t) {
			return
		}
		if try == 3 {
			t.Fatal("three times, B was not seen waiting on the limiter before it was sent: the machine was too slow to set the scene")
		}
	}
}

// relLimiterThenPause plays TestLimiterWaitHonoursPauseBegunMeanwhile once.
// It returns false if B was sent before the test saw it wait on the limiter.
func relLimiterThenPause(t *testing.T) (set bool) {
	var (
		mu       sync.Mutex
		arrivedB []time.Time
	)
	arrivedA := make(chan struct{}, 1)
	releaseA := make(chan struct{})
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(releaseA) }) }
	defer release() // also on t.Fatal: the server's Close waits for A's handler
	base, _ := relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		switch {
		case n == 1: // A's first attempt
			arrivedA <- struct{}{}
			<-releaseA
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
		case strings.HasSuffix(r.URL.Path, "/B"):
			mu.Lock()
			arrivedB = append(arrivedB, time.Now())
			mu.Unlock()
			relWriteUser(w, "B")
		default:
			relWriteUser(w, "A")
		}
	})
	c := relClient(t, base, WithRateLimit(1, 1))
	// A bound on the whole scene, so that a broken build fails, not hangs.
	ctx, cancel := context.WithTimeout(context.Background(), relCallerBound)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { _, errs[0] = c.DeleteUser(ctx, "A") })
	select {
	case <-arrivedA:
	case <-ctx.Done():
		t.Fatal("A never reached the server")
	}
	wg.Go(func() { _, errs[1] = c.DeleteUser(ctx, "B") })
	// B has reserved its turn once the limiter's tokens go below zero: it
	// then waits out the rest of the second that began with A's token.
	for c.loop.limiter.Tokens() >= 0 {
		mu.Lock()
		sent := len(arrivedB)
		mu.Unlock()
		if ctx.Err() != nil {
			t.Fatal("B neither waited on the limiter nor was sent")
		}
		if sent > 0 {
			release()
			wg.Wait()
			t.Log("B was sent before the test saw it wait on the limiter; setting the scene again")
			return false
		}
		time.Sleep(time.Millisecond)
	}
	release()
	var until time.Time
	for until.IsZero() {
		if ctx.Err() != nil {
			t.Fatal("A's 429 with Retry-After: 2 did not pause the client")
		}
		until = c.PausedUntil()
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %c: %v", "AB"[i], err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivedB) != 1 {
		t.Fatalf("B reached the server %d times, want once", len(arrivedB))
	}
	if arrivedB[0].Before(until) {
		t.Errorf("B was sent %v before the pause that A's 429 began ended", until.Sub(arrivedB[0]))
	}
	return true
}

func TestCancelStopsBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// The client logs "attempt failed" just before it sleeps a minute:
	// cancel right then.
	onLog := slog.New(logHook(func(r slog.Record) {
		if r.Message == "pagecall: attempt failed" {
			cancel()
		}
	}))
	c, mux, _ := setup(t, WithLogger(onLog), WithRetryPolicy(RetryPolicy{MaxRetries: 2, InitialBackoff: time.Minute, MaxBackoff: time.Minute}))
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	done := make(chan error, 1)
	go func() { _, err := c.DeleteUser(ctx, testUserID); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		var reqErr *RequestError
		var last *APIError
		if !errors.As(err, &reqErr) || !errors.As(reqErr.Last, &last) || last.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("err = %#v, want a *RequestError whose Last is the 503", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("DeleteUser still sleeping after its context was cancelled")
	}
}

func TestHangingServerBoundedByDeadline(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers while the client waits
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := c.DeleteUser(ctx, testUserID); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("DeleteUser hung past its deadline")
	}
}

func TestFailedAttemptBodyDrainedConnectionReused(t *testing.T) {
	c, mux, ts := setup(t)
	page := "<html><body>" + strings.Repeat("Service temporarily unavailable. ", 1500) + "</body></html>" // ~48 KiB
	mux.HandleFunc("/v1/users/{id}", failThen(2, http.StatusServiceUnavailable, page, okUser))
	if _, err := c.DeleteUser(context.Background(), testUserID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if n := ts.conns.Load(); n != 1 {
		t.Errorf("TCP connections = %d, want 1 (failed attempts' bodies drained and the connection reused)", n)
	}
}

func TestResponseSizeCap(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		size    int
		chunked bool
	}{
		{"content-length over option", []Option{WithMaxResponseBytes(1024)}, 2048, false},
		{"chunked over option", []Option{WithMaxResponseBytes(1024)}, 2048, true},
		{"chunked over default", nil, DefaultMaxResponseBytes + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, ts := setup(t, tt.opts...)
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if !tt.chunked {
					w.Header().Set("Content-Length", fmt.Sprint(tt.size))
				}
				body := append([]byte(`{"user":{"name":"`), bytes.Repeat([]byte("x"), tt.size)...)
				w.Write(body[:tt.size])
			})
			_, err := c.DeleteUser(context.Background(), testUserID)
			if !errors.Is(err, ErrResponseTooLarge) {
				t.Fatalf("err = %v, want ErrResponseTooLarge", err)
			}
			if n := ts.hits.Load(); n != 1 {
				t.Errorf("attempts = %d, want 1 (a large body is not retried)", n)
			}
		})
	}
}

// TestMalformedSuccessBody: a 2xx body that is not JSON, or not whole, is
// ErrMalformedResponse in both modes; one that is JSON but does not fit the
// model is drift, which only a strict client turns into that error.
func TestMalformedSuccessBody(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		lenientOK               bool // the default client succeeds
	}{
		{"truncated JSON", "application/json", `{"user": {"user_id": "x"`, false},
		{"wrong type", "application/json", `{"user": "not an object"}`, true},
		{"not JSON", "text/html", `<html>ok</html>`, false},
		{"a number for the body", "application/json", `42`, false},
		{"empty", "application/json", ``, false},
	}
	for _, tt := range tests {
		for _, strict := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/strict=%v", tt.name, strict), func(t *testing.T) {
				var opts []Option
				if strict {
					opts = append(opts, WithStrictResponses())
				}
				c, mux, ts := setup(t, opts...)
				mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", tt.contentType)
					io.WriteString(w, tt.body)
				})
				u, err := c.DeleteUser(context.Background(), testUserID)
				if n := ts.hits.Load(); n != 1 {
					t.Errorf("requests = %d, want 1: a 2xx answer is never retried", n)
				}
				if tt.lenientOK && !strict {
					if err != nil || u == nil {
						t.Fatalf("DeleteUser = %v, %v; want success: the server reported success", u, err)
					}
					return
				}
				var reqErr *RequestError
				if !errors.Is(err, ErrMalformedResponse) || !errors.As(err, &reqErr) || u != nil {
					t.Fatalf("DeleteUser = %v, %v; want a *RequestError with ErrMalformedResponse", u, err)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "pagecall: DELETE /v1/users/"+testUserID+": malformed response") {
					t.Errorf("Error() = %q, want it to name the request once", msg)
				}
			})
		}
	}
}

func TestInvalidUserIDNotSent(t *testing.T) {
	for _, id := range []string{"", ".", ".."} {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			c, mux, ts := setup(t)
			mux.HandleFunc("/", okUser)
			_, err := c.DeleteUser(context.Background(), id)
			if !errors.Is(err, ErrInvalidUserID) {
				t.Fatalf("err = %v, want ErrInvalidUserID", err)
			}
			if n := ts.hits.Load(); n != 0 {
				t.Errorf("%d requests sent for an invalid ID", n)
			}
		})
	}
}

func TestUserIDSentAsOneSegment(t *testing.T) {
	ids := []string{"a/b", "a?b=c", "a#b", "a b", "%2F", "%", "ユーザー", "../rooms/x", "./x", "...", "a;b", "a\\b", "+plus", "x\x00y", "tab\t"}
	for _, id := range ids {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			c, mux, _ := setup(t)
			var escaped, decoded string
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				escaped, decoded = r.URL.EscapedPath(), r.URL.Path
				writeUser(w, "ok")
			})
			if _, err := c.DeleteUser(context.Background(), id); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			seg, found := strings.CutPrefix(escaped, "/v1/users/")
			if !found || strings.Contains(seg, "/") {
				t.Fatalf("server got path %q, want one segment under /v1/users/", escaped)
			}
			if got, err := url.PathUnescape(seg); err != nil || got != id {
				t.Errorf("segment %q decodes to %q (%v), want %q", seg, got, err, id)
			}
			if decoded != "/v1/users/"+id {
				t.Errorf("server decoded path %q, want %q", decoded, "/v1/users/"+id)
			}
		})
	}
}

// relSlack is what a bounded call may take past its deadline: scheduling,
// the race detector and a loaded CI machine, not the work itself.
const relSlack = 2 * time.Second

// relDeadlineRT records the deadline of each request's context.
type relDeadlineRT struct {
	mu        sync.Mutex
	deadlines []time.Time // zero: no deadline
	inner     http.RoundTripper
}

func (rt *relDeadlineRT) RoundTrip(req *http.Request) (*http.Response, error) {
	d, _ := req.Context().Deadline()
	rt.mu.Lock()
	rt.deadlines = append(rt.deadlines, d)
	rt.mu.Unlock()
	return rt.inner.RoundTrip(req)
}

// TestTimeoutDeadlineOfEachAttempt checks, on the requests themselves,
// which deadline they carry: WithTimeout (or DefaultTimeout) when the
// caller's context has none, and exactly the caller's otherwise, even when
// WithTimeout is shorter or longer.
func TestTimeoutDeadlineOfEachAttempt(t *testing.T) {
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) { relWriteUser(w, "u1") })
	callerDeadline := time.Now().Add(time.Hour)
	cases := []struct {
		name string
		opts []Option
		ctx  func() (context.Context, context.CancelFunc)
		want func(start time.Time) (lo, hi time.Time)
	}{
		{"no option, no ctx deadline: DefaultTimeout", nil, relNoDeadline,
			func(s time.Time) (time.Time, time.Time) { return s.Add(DefaultTimeout), time.Now().Add(DefaultTimeout) }},
		{"WithTimeout(5s), no ctx deadline: 5s", []Option{WithTimeout(5 * time.Second)}, relNoDeadline,
			func(s time.Time) (time.Time, time.Time) {
				return s.Add(5 * time.Second), time.Now().Add(5 * time.Second)
			}},
		{"WithTimeout(5s), ctx deadline in 1h: the caller's", []Option{WithTimeout(5 * time.Second)},
			func() (context.Context, context.CancelFunc) {
				return context.WithDeadline(context.Background(), callerDeadline)
			},
			func(time.Time) (time.Time, time.Time) { return callerDeadline, callerDeadline }},
		{"WithTimeout(0): no deadline", []Option{WithTimeout(0)}, relNoDeadline,
			func(time.Time) (time.Time, time.Time) { return time.Time{}, time.Time{} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := &relDeadlineRT{inner: &http.Transport{}}
			t.Cleanup(rt.inner.(*http.Transport).CloseIdleConnections)
			c := relClient(t, base, append(tc.opts, WithHTTPClient(&http.Client{Transport: rt}))...)
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			if _, err := c.DeleteUser(ctx, "u1"); err != nil {
				t.Fatal(err)
			}
			lo, hi := tc.want(start)
			if len(rt.deadlines) != 1 {
				t.Fatalf("%d requests, want 1", len(rt.deadlines))
			}
			if d := rt.deadlines[0]; d.Before(lo) || d.After(hi) {
				t.Errorf("request deadline %v, want in [%v, %v]", d, lo, hi)
			}
		})
	}
}

func relNoDeadline() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// TestWithTimeoutBoundsAllAttempts: with no deadline on the caller's
// context, WithTimeout bounds the whole call: every attempt and every wait
// between them, not each attempt on its own.
func TestWithTimeoutBoundsAllAttempts(t *testing.T) {
	const timeout = 300 * time.Millisecond

	t.Run("attempts", func(t *testing.T) {
		// The first attempt fails at once, the second hangs: a per-attempt
		// timeout would let the call run 2×; the server gives up at 10 s.
		base, hits := relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			relWaitOrDone(r, 10*time.Second)
		})
		c := relClient(t, base, WithTimeout(timeout))
		start := time.Now()
		_, err := c.DeleteUser(context.Background(), "u1")
		elapsed := time.Since(start)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if hits.Load() != 2 || relAttempts(err) != 2 {
			t.Errorf("server saw %d requests, error says %d attempts; want 2", hits.Load(), relAttempts(err))
		}
		if elapsed < timeout || elapsed > timeout+relSlack {
			t.Errorf("returned after %v, want between %v and %v", elapsed, timeout, timeout+relSlack)
		}
	})

	t.Run("backoff", func(t *testing.T) {
		// A 10 s backoff would outlive the timeout: the client returns the
		// 503 at once instead of sleeping into a certain failure.
		base, hits := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		c := relClient(t, base, WithTimeout(timeout),
			WithRetryPolicy(RetryPolicy{MaxRetries: 5, InitialBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second}))
		start := time.Now()
		_, err := c.DeleteUser(context.Background(), "u1")
		elapsed := time.Since(start)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("err = %v, want the 503 as *APIError", err)
		}
		if hits.Load() != 1 {
			t.Errorf("server saw %d requests, want 1", hits.Load())
		}
		if elapsed > timeout+relSlack {
			t.Errorf("returned after %v, want within %v", elapsed, timeout+relSlack)
		}
	})
}

// TestWithTimeoutKeepsCallerDeadline: a deadline on the caller's context
// wins over WithTimeout, whether it is longer or shorter.
func TestWithTimeoutKeepsCallerDeadline(t *testing.T) {
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/users/slow" {
			relWaitOrDone(r, 200*time.Millisecond)
		}
		if r.URL.Path == "/v1/users/hang" {
			relWaitOrDone(r, 10*time.Second)
		}
		relWriteUser(w, "u1")
	})

	t.Run("longer caller deadline: the call may outlast WithTimeout", func(t *testing.T) {
		c := relClient(t, base, WithTimeout(50*time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := c.DeleteUser(ctx, "slow"); err != nil {
			t.Fatalf("200 ms call with a 5 s context deadline and WithTimeout(50ms): %v", err)
		}
	})
	t.Run("shorter caller deadline: the call stops at it", func(t *testing.T) {
		c := relClient(t, base, WithTimeout(time.Minute))
		const d = 150 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		start := time.Now()
		_, err := c.DeleteUser(ctx, "hang")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if e := time.Since(start); e > d+relSlack {
			t.Errorf("returned after %v, want within %v", e, d+relSlack)
		}
	})
}

// relFullBacklog returns a loopback address where a connect hangs: a
// socket listening with a backlog of 0 whose one queue slot is taken and
// never accepted, so the kernel drops further SYNs.
func relFullBacklog(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skip("raw socket:", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Skip("bind:", err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Skip("listen:", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Skip("getsockname:", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	filler, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Skip("filling the backlog:", err)
	}
	t.Cleanup(func() { filler.Close() })
	if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		c.Close()
		t.Skip("this kernel accepts past a full backlog; cannot make a connect hang")
	}
	return addr
}

// TestTrickledBodyStoppedAtDeadline: a server that sends its headers at
// once and then one byte every 20 ms never trips a header timeout; the
// call's deadline still stops it.
func TestTrickledBodyStoppedAtDeadline(t *testing.T) {
	const timeout = 300 * time.Millisecond
	base, hits := relServer(t, relTrickle)
	c := relClient(t, base, WithTimeout(timeout))
	start := time.Now()
	_, err := c.DeleteUser(context.Background(), "u1")
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if hits.Load() != 1 {
		t.Errorf("server saw %d requests, want 1 (no retry past the deadline)", hits.Load())
	}
	if elapsed < timeout || elapsed > timeout+relSlack {
		t.Errorf("returned after %v, want between %v and %v", elapsed, timeout, timeout+relSlack)
	}
}

// TestAPIKeyOnlyReachesBaseHost: when the API redirects, the key follows
// only to the base URL's own scheme, host and port. net/http alone drops
// it only on a change of host name, not of port or scheme.
func TestAPIKeyOnlyReachesBaseHost(t *testing.T) {
	// The redirect target: answers the user, records what it got.
	var targetAuth relAuthLog
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetAuth.add(r)
		relWriteUser(w, "u1")
	}))
	t.Cleanup(target.Close)
	targetPort := target.URL[strings.LastIndex(target.URL, ":")+1:]

	// redirector answers 307 to to(r); it records what it got.
	redirector := func(t *testing.T, tls bool, to func(r *http.Request) string) (*httptest.Server, *relAuthLog) {
		var auth relAuthLog
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth.add(r)
			if r.URL.Query().Has("arrived") {
				relWriteUser(w, "u1")
				return
			}
			http.Redirect(w, r, to(r), http.StatusTemporaryRedirect)
		})
		var ts *httptest.Server
		if tls {
			ts = httptest.NewTLSServer(h)
		} else {
			ts = httptest.NewServer(h)
		}
		t.Cleanup(ts.Close)
		return ts, &auth
	}

	cases := []struct {
		name      string
		tls       bool
		to        func(r *http.Request) string
		client    func(ts *httptest.Server) *http.Client // nil: the default
		toTarget  bool                                   // the redirect lands on target
		wantAuthB bool                                   // the landing request carries the key
	}{
		{
			name:     "other host name: 127.0.0.1 to localhost",
			to:       func(r *http.Request) string { return "http://localhost:" + targetPort + r.URL.Path },
			client:   func(*httptest.Server) *http.Client { return &http.Client{Transport: relLoopbackTransport()} },
			toTarget: true,
		},
		{
			name:     "other port: 127.0.0.1:A to 127.0.0.1:B",
			to:       func(r *http.Request) string { return target.URL + r.URL.Path },
			toTarget: true,
		},
		{
			name:     "other scheme: https to http, same host",
			tls:      true,
			to:       func(r *http.Request) string { return target.URL + r.URL.Path },
			client:   func(ts *httptest.Server) *http.Client { return ts.Client() },
			toTarget: true,
		},
		{
			// Control: the key is sent on redirects that stay on the base,
			// so the cases above do test the guard.
			name:      "same scheme, host and port: the key follows",
			to:        func(r *http.Request) string { return r.URL.Path + "?arrived=1" },
			wantAuthB: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, baseAuth := redirector(t, tc.tls, tc.to)
			var opts []Option
			if tc.client != nil {
				hc := tc.client(ts)
				if tr, ok := hc.Transport.(*http.Transport); ok {
					t.Cleanup(tr.CloseIdleConnections)
				}
				opts = append(opts, WithHTTPClient(hc))
			}
			c := relClient(t, ts.URL+"/v1", opts...)
			before := len(targetAuth.get())
			if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			want := "Bearer " + relKey
			if got := baseAuth.get(); len(got) == 0 || got[0] != want {
				t.Fatalf("base server got Authorization %q, want the key", got)
			}
			var landed []string
			if tc.toTarget {
				landed = targetAuth.get()[before:]
			} else {
				landed = baseAuth.get()[1:]
			}
			if len(landed) != 1 {
				t.Fatalf("redirect target got %d requests, want 1", len(landed))
			}
			if tc.wantAuthB && landed[0] != want {
				t.Errorf("same-origin redirect got Authorization %q, want the key", landed[0])
			}
			if !tc.wantAuthB && landed[0] != "" {
				t.Errorf("redirect off the base URL carried Authorization %q", landed[0])
			}
		})
	}
}

// TestDebugLogsMaskKey: a failing call with retries, logged at debug
// level through text and JSON handlers, never writes the key, while the
// log does describe the attempts (so it is not just empty).
func TestDebugLogsMaskKey(t *testing.T) {
	base, _ := relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", n))
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"message":"upstream unavailable for %s"}`, r.URL.Path)
	})
	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"text", func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true})
		}},
		{"json", func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		}},
	} {
		t.Run(h.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(h.new(&buf))
			c := relClient(t, base, WithLogger(logger))
			// Leave the budget a retry or two, so that the refusal record
			// is logged too.
			c.loop.budget.left.Store(2 * budgetRetryCost)
			var last error
			for range 4 {
				_, last = c.DeleteUser(context.Background(), "u1")
			}
			if last == nil {
				t.Fatal("call succeeded against a 503 server")
			}
			logger.Debug("caller logs the client and the error", "client", c, "err", last)

			out := buf.String()
			for _, want := range []string{"attempt failed", "upstream unavailable", relBudgetMsg} {
				if !strings.Contains(out, want) {
					t.Errorf("debug log lacks %q; log:\n%s", want, out)
				}
			}
			if strings.Contains(out, relKey) {
				t.Errorf("debug log contains the API key:\n%s", out)
			}
			if strings.Contains(last.Error(), relKey) {
				t.Errorf("error contains the API key: %v", last)
			}
		})
	}
}

// FuzzUserIDPath: for any user ID, either DeleteUser refuses it before
// sending anything (and ValidateUserID says why), or the server receives
// exactly one request whose path is /v1/users/ and one segment that
// decodes to the ID: no ID can reach another path, add a segment, or
// smuggle a query.
func FuzzUserIDPath(f *testing.F) {
	for _, id := range []string{
		"external_user_102932", "", ".", "..", "a/b", "../admin", "%2e%2e", "a?b=c", "a#frag",
		"a b", "ü", "\x00", "\xff\xfe", "/", "//", "a;b", "users/../x", "%", "+", "..%2f",
	} {
		f.Add(id)
	}

	var (
		mu   sync.Mutex
		seen []string // request URIs since the last reset
	)
	base, _ := relServer(f, func(_ int64, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.RequestURI)
		mu.Unlock()
		relWriteUser(w, "u1")
	})
	c := relClient(f, base, WithMaxRetries(0))

	f.Fuzz(func(t *testing.T, id string) {
		mu.Lock()
		seen = seen[:0]
		mu.Unlock()

		_, err := c.DeleteUser(context.Background(), id)

		mu.Lock()
		got := append([]string(nil), seen...)
		mu.Unlock()

		if verr := ValidateUserID(id); verr != nil {
			if !errors.Is(err, ErrInvalidUserID) {
				t.Fatalf("ValidateUserID(%q) = %v but DeleteUser = %v, want ErrInvalidUserID", id, verr, err)
			}
			if len(got) != 0 {
				t.Fatalf("invalid ID %q was sent: %q", id, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("DeleteUser(%q) = %v; ValidateUserID accepted it", id, err)
		}
		if len(got) != 1 {
			t.Fatalf("DeleteUser(%q) sent %d requests, want 1: %q", id, len(got), got)
		}
		seg, ok := strings.CutPrefix(got[0], "/v1/users/")
		if !ok || seg == "" || strings.ContainsAny(seg, "/?#") {
			t.Fatalf("DeleteUser(%q) requested %q, want /v1/users/ and one segment", id, got[0])
		}
		dec, err := url.PathUnescape(seg)
		if err != nil || dec != id {
			t.Fatalf("DeleteUser(%q) requested %q, whose segment decodes to %q (%v)", id, got[0], dec, err)
		}
	})
}

// relAllDigits reports whether s is RFC 9110 delay-seconds: 1*DIGIT.
func relAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// TestRateLimitRefusalCountsNoAttempt: a call that the rate limit ends
// before its first request reports 0 attempts in ResponseInfo and CallEnd.
func TestRateLimitRefusalCountsNoAttempt(t *testing.T) {
	base, hits := relServer(t, relFailThenOK(0, 0, nil, ""))
	var ended []int
	c := relClient(t, base, WithRateLimit(0.001, 1), WithHooks(Hooks{CallEnd: func(_ context.Context, e CallEnd) { ended = append(ended, e.Attempts) }}))
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil { // takes the burst
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var info ResponseInfo
	_, err := c.DeleteUser(ctx, "u1", WithResponseInfo(&info))
	if !errors.Is(err, context.DeadlineExceeded) || hits.Load() != 1 {
		t.Fatalf("err = %v after %d requests, want the rate limit's refusal and no second request", err, hits.Load())
	}
	if info.Attempts != 0 || len(ended) != 2 || ended[1] != 0 {
		t.Errorf("ResponseInfo.Attempts = %d, CallEnd attempts %v; want 0 for the refused call", info.Attempts, ended)
	}
}

// TestRetryKeepsQuery: every attempt of a call with a query and a body
// sends the query, the retries' (whose body is rewound) too.
func TestRetryKeepsQuery(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	base, _ := relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	c := relClient(t, base)
	if err := c.Do(context.Background(), http.MethodPost, "/rooms?limit=7", map[string]string{"name": "r"}, nil, WithIdempotent()); err != nil {
		t.Fatalf("Do: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(queries) != 2 || queries[0] != "limit=7" || queries[1] != "limit=7" {
		t.Errorf("queries per attempt = %q, want limit=7 on both", queries)
	}
}

// TestRetryAfterOn503PausesClient: a 503 with Retry-After holds the
// client-wide pause as a 429 does: the next call, whose deadline ends
// before the pause, fails at once with that 503 and sends nothing.
func TestRetryAfterOn503PausesClient(t *testing.T) {
	base, hits := relServer(t, relFailThenOK(1, http.StatusServiceUnavailable, map[string]string{"Retry-After": "1"}, ""))
	c := relClient(t, base, WithMaxRetries(0))
	if _, err := c.DeleteUser(context.Background(), "u1"); !errors.As(err, new(*APIError)) {
		t.Fatalf("first call: %v, want the 503", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.DeleteUser(ctx, "u1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || hits.Load() != 1 {
		t.Errorf("second call: %v after %d requests; want the 503 of the pause and no second request", err, hits.Load())
	}
}

// TestCancelledAttemptNotRetried: an attempt that failed because the
// caller cancelled the call is not marked for a retry: AttemptEnd says
// Retry false, and it is the only attempt.
func TestCancelledAttemptNotRetried(t *testing.T) {
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	var mu sync.Mutex
	var retries []bool
	c := relClient(t, base, WithHooks(Hooks{AttemptEnd: func(_ context.Context, e AttemptEnd) {
		mu.Lock()
		retries = append(retries, e.Retry)
		mu.Unlock()
	}}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	if _, err := c.DeleteUser(ctx, "u1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(retries) != 1 || retries[0] {
		t.Errorf("AttemptEnd Retry per attempt = %v, want one attempt, not retried", retries)
	}
}

// TestResultOperationDecodesAnyOther2xx: a 2xx other than the 200 the
// spec declares (a 202, say) is Pagecall saying the work was done: its JSON
// body is decoded as the result, and the call succeeds.
func TestResultOperationDecodesAnyOther2xx(t *testing.T) {
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"user":{"user_id":"u1","name":"A","created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z"}}`)
	})
	c := relClient(t, base)
	u, err := c.DeleteUser(context.Background(), "u1")
	if err != nil || u == nil || u.UserID != "u1" || u.Name != "A" {
		t.Errorf("DeleteUser answered 202 = %+v, %v; want the user decoded and no error", u, err)
	}
}
