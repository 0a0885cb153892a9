package pagecall

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
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/internal/wire"
)

const (
	testKey    = "pc_test_0123456789abcdef"
	testUserID = "external_user_102932"
)

// fastRetries keeps the default retry count but waits only a millisecond,
// so that retry tests run in no time.
func fastRetries() RetryPolicy {
	return RetryPolicy{MaxRetries: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
}

// testServer is a loopback API server whose handler a test sets, counting
// requests and TCP connections.
type testServer struct {
	*httptest.Server
	mux   *http.ServeMux
	hits  atomic.Int64
	conns atomic.Int64
}

// base returns the server's API base URL.
func (s *testServer) base() string { return s.URL + "/v1" }

// setup starts a test server and a client for it, in the style of
// go-github: the test registers handlers on mux.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, *testServer) {
	t.Helper()
	ts := newTestServer(t)
	c, err := NewClient(append([]Option{WithAPIKey(testKey), WithBaseURL(ts.base()), WithRetryPolicy(fastRetries())}, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, ts.mux, ts
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{mux: http.NewServeMux()}
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.hits.Add(1)
		ts.mux.ServeHTTP(w, r)
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ts.conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// writeUser answers like Pagecall's DeleteUser.
func writeUser(w http.ResponseWriter, id string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"user":{"user_id":%q,"name":"scotty","default_member_type":"guest","created_at":"2023-01-01T01:00:00.000Z"}}`, id)
}

// failThen answers the first n requests with status (and body), then as ok.
func failThen(n int64, status int, body string, ok http.HandlerFunc) http.HandlerFunc {
	var count atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1) <= n {
			w.WriteHeader(status)
			io.WriteString(w, body)
			return
		}
		ok(w, r)
	}
}

func okUser(w http.ResponseWriter, r *http.Request) { writeUser(w, r.PathValue("id")) }

func TestDeleteUser(t *testing.T) {
	c, mux, _ := setup(t)
	var gotMethod, gotPath string
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		gotMethod, gotPath = r.Method, r.URL.EscapedPath()
		okUser(w, r)
	})
	u, err := c.DeleteUser(context.Background(), testUserID)
	if err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if gotMethod != http.MethodDelete || gotPath != "/v1/users/"+testUserID {
		t.Errorf("server got %s %s, want DELETE /v1/users/%s", gotMethod, gotPath, testUserID)
	}
	if u.UserID != testUserID || u.Name != "scotty" || u.DefaultMemberType != wire.MemberTypeGuest {
		t.Errorf("user = %+v", u)
	}
	if want := time.Date(2023, 1, 1, 1, 0, 0, 0, time.UTC); !u.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v, want %v", u.CreatedAt, want)
	}
}

func TestAuthHeaderOnEveryAttempt(t *testing.T) {
	c, mux, _ := setup(t)
	var mu sync.Mutex
	var got []string
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		n := len(got)
		mu.Unlock()
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		okUser(w, r)
	})
	if _, err := c.DeleteUser(context.Background(), testUserID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("attempts = %d, want 3", len(got))
	}
	for i, h := range got {
		if h != "Bearer "+testKey {
			t.Errorf("attempt %d: Authorization = %q, want Bearer <key>", i+1, h)
		}
	}
}

func TestNewClientAPIKeyFromEnvironment(t *testing.T) {
	ts := newTestServer(t)
	var auth string
	ts.mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		okUser(w, r)
	})
	t.Setenv(EnvAPIKey, "from-env")
	t.Setenv(EnvBaseURL, ts.base())
	c, err := NewClient()
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if _, err := c.DeleteUser(context.Background(), "u"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if auth != "Bearer from-env" {
		t.Errorf("Authorization = %q, want the key from %s", auth, EnvAPIKey)
	}
}

func TestNewClientMissingKey(t *testing.T) {
	t.Setenv(EnvAPIKey, "")
	for _, opts := range [][]Option{nil, {WithAPIKey("")}} {
		_, err := NewClient(opts...)
		if !errors.Is(err, ErrMissingAPIKey) {
			t.Fatalf("NewClient: err = %v, want ErrMissingAPIKey", err)
		}
		if !strings.Contains(err.Error(), "PAGECALL_API_KEY") {
			t.Errorf("error %q does not name PAGECALL_API_KEY", err)
		}
	}
}

func TestNewClientInvalidKey(t *testing.T) {
	for _, key := range []string{"has space", "tab\there", "new\nline", "cr\r", "nul\x00", "del\x7f", " lead", "trail ", "ünï"} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			ts := newTestServer(t)
			_, err := NewClient(WithAPIKey(key), WithBaseURL(ts.base()))
			if !errors.Is(err, ErrInvalidAPIKey) {
				t.Fatalf("err = %v, want ErrInvalidAPIKey", err)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error %q repeats the key", err)
			}
			if n := ts.hits.Load(); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// hijack takes over the connection of a request, for faults below HTTP.
func hijack(t *testing.T, w http.ResponseWriter) net.Conn {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return nil
	}
	return conn
}

// logHook is a slog.Handler that calls a function for each debug record.
type logHook func(slog.Record)

func (logHook) Enabled(context.Context, slog.Level) bool { return true }

func (h logHook) Handle(_ context.Context, r slog.Record) error { h(r); return nil }

func (h logHook) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h logHook) WithGroup(string) slog.Handler { return h }

func TestBaseURLSecurity(t *testing.T) {
	tests := []struct {
		url     string
		opts    []Option
		wantErr error
	}{
		{DefaultBaseURL, nil, nil},
		{"http://127.0.0.1:4010/v1", nil, nil},
		{"http://127.1.2.3/v1", nil, nil},
		{"http://localhost:4010/v1", nil, nil},
		{"http://[::1]:4010/v1", nil, nil},
		{"http://api.pagecall.com/v1", nil, ErrInsecureBaseURL},
		{"http://10.0.0.1/v1", nil, ErrInsecureBaseURL},
		{"http://localhost.example.com/v1", nil, ErrInsecureBaseURL},
		{"http://api.pagecall.com/v1", []Option{WithInsecureHTTP()}, nil},
		{"ftp://api.pagecall.com/v1", nil, ErrInvalidBaseURL},
		{"api.pagecall.com/v1", nil, ErrInvalidBaseURL},
		{"https:///v1", nil, ErrInvalidBaseURL},
		{"https://user:pw@api.pagecall.com/v1", nil, ErrInvalidBaseURL},
		{"https://api.pagecall.com/v1?x=1", nil, ErrInvalidBaseURL},
		{"https://api.pagecall.com/v1#frag", nil, ErrInvalidBaseURL},
		{"https://api.pagecall.com:bad/v1", nil, ErrInvalidBaseURL},
		{"https://api pagecall.com/v1", nil, ErrInvalidBaseURL},
		{"\x7f", nil, ErrInvalidBaseURL},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := NewClient(append([]Option{WithAPIKey(testKey), WithBaseURL(tt.url)}, tt.opts...)...)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewClient(%q) err = %v, want %v", tt.url, err, tt.wantErr)
			}
		})
	}
}

func TestKeyNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux, _ := setup(t, WithLogger(logger))
	// A hostile server echoes the Authorization header into its error
	// body and its request ID.
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"message": "bad token %s"}`, r.Header.Get("Authorization"))
	})
	_, err := c.DeleteUser(context.Background(), testUserID)
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if !strings.Contains(apiErr.Message, "bad token Bearer "+redacted) {
		t.Errorf("Message = %q, want the echoed key redacted", apiErr.Message)
	}
	texts := map[string]string{
		"err.Error()":     err.Error(),
		"%v err":          fmt.Sprintf("%v", err),
		"%+v err":         fmt.Sprintf("%+v", err),
		"%#v err":         fmt.Sprintf("%#v", err),
		"%#v apiErr":      fmt.Sprintf("%#v", *apiErr),
		"body":            string(apiErr.Body),
		"%v client":       fmt.Sprintf("%v", c),
		"%+v client":      fmt.Sprintf("%+v", c),
		"%#v client":      fmt.Sprintf("%#v", c),
		"%s client":       fmt.Sprintf("%s", c),
		"%v client value": fmt.Sprintf("%v", *c),
		"%+v loop":        fmt.Sprintf("%+v", *c.loop),
		"logs":            logs.String(),
	}
	for name, text := range texts {
		if strings.Contains(text, testKey) {
			t.Errorf("%s leaks the key: %s", name, text)
		}
	}
	if !strings.Contains(logs.String(), "attempt failed") {
		t.Errorf("debug log has no attempt lines; the leak check above saw nothing: %q", logs.String())
	}
}

func TestDefaultHTTPClientTuned(t *testing.T) {
	c, _, _ := setup(t)
	tr, ok := c.loop.hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("default transport is %T, want *http.Transport", c.loop.hc.Transport)
	}
	if tr.MaxIdleConnsPerHost < 64 || tr.MaxIdleConns < tr.MaxIdleConnsPerHost {
		t.Errorf("MaxIdleConnsPerHost = %d, MaxIdleConns = %d; want room for dozens of concurrent callers", tr.MaxIdleConnsPerHost, tr.MaxIdleConns)
	}
	if tr.DialContext == nil || tr.TLSHandshakeTimeout <= 0 || tr.ResponseHeaderTimeout <= 0 || tr.IdleConnTimeout <= 0 {
		t.Errorf("transport lacks a connect, TLS-handshake, response-header or idle timeout: %+v", tr)
	}
	if tr == http.DefaultTransport {
		t.Error("client shares http.DefaultTransport")
	}
}

func TestConcurrentUse(t *testing.T) {
	c, mux, ts := setup(t)
	// The first attempt for a few users fails (user-{0,8,16,24}-2), so
	// retries run concurrently with first attempts; each call is decided by
	// its own ID, not by the interleaving. (Few, because the retry budget
	// rightly stops retrying when many calls fail at once.)
	var seen sync.Map
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		var g, i int
		fmt.Sscanf(id, "user-%d-%d", &g, &i)
		if _, again := seen.LoadOrStore(id, true); !again && g%8 == 0 && i == 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		okUser(w, r)
	})
	const callers, calls = 32, 5
	var wg sync.WaitGroup
	errs := make(chan error, callers*calls)
	for g := range callers {
		wg.Go(func() {
			for i := range calls {
				id := fmt.Sprintf("user-%d-%d", g, i)
				u, err := c.DeleteUser(context.Background(), id)
				if err == nil && u.UserID != id {
					err = fmt.Errorf("got user %q for %q", u.UserID, id)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if hits, want := ts.hits.Load(), int64(callers*calls+callers/8); hits != want {
		t.Errorf("server saw %d requests, want %d (one retry for each failing user)", hits, want)
	}
	// A caller that finds no idle connection dials, and a connection freed
	// meanwhile stays pooled, so somewhat more than the callers may open
	// under load; a client that kept only net/http's default 2 idle
	// connections would open one for nearly every call (160 here).
	if conns := ts.conns.Load(); conns > 2*callers {
		t.Errorf("opened %d connections for %d concurrent callers", conns, callers)
	}
}

// sendRaw sends req, as it is, through the client's request loop.
func sendRaw(c *Client, req *http.Request) error {
	op := &operation{method: req.Method, raw: true}
	return c.loop.call(req.Context(), op, nil, nil, func(context.Context, string) (*http.Request, error) { return req, nil }, nil)
}

// TestMaxResponseBytesZeroIsDefault: WithMaxResponseBytes of 0 or below
// leaves the default cap rather than refusing every body. (Found by
// gremlins: 0 taken as a cap of 0 bytes passed every test.)
func TestMaxResponseBytesZeroIsDefault(t *testing.T) {
	for _, n := range []int64{0, -1} {
		c, err := NewClient(WithAPIKey("key"), WithMaxResponseBytes(n))
		if err != nil {
			t.Fatal(err)
		}
		if c.loop.maxBody != DefaultMaxResponseBytes {
			t.Errorf("WithMaxResponseBytes(%d): cap %d, want DefaultMaxResponseBytes (%d)", n, c.loop.maxBody, DefaultMaxResponseBytes)
		}
	}
	c, err := NewClient(WithAPIKey("key"), WithMaxResponseBytes(1))
	if err != nil {
		t.Fatal(err)
	}
	if c.loop.maxBody != 1 {
		t.Errorf("WithMaxResponseBytes(1): cap %d, want 1", c.loop.maxBody)
	}
}

// TestWithHTTPClientLeavesCallersClientAlone: NewClient works on a copy of
// the caller's *http.Client: its CheckRedirect is neither replaced nor
// wrapped, however many clients are made from it, and a nil one stays nil.
func TestWithHTTPClientLeavesCallersClientAlone(t *testing.T) {
	own := func(*http.Request, []*http.Request) error { return nil }
	withOwn := &http.Client{CheckRedirect: own}
	withNone := &http.Client{}
	for range 3 {
		relClient(t, "http://127.0.0.1:1/v1", WithHTTPClient(withOwn))
		relClient(t, "http://127.0.0.1:1/v1", WithHTTPClient(withNone))
	}
	if withNone.CheckRedirect != nil {
		t.Error("the caller's client with no CheckRedirect got one")
	}
	if reflect.ValueOf(withOwn.CheckRedirect).Pointer() != reflect.ValueOf(own).Pointer() {
		t.Error("the caller's CheckRedirect was replaced or wrapped")
	}
	// Behaviourally too: the caller's client, used directly, keeps the
	// header on a redirect off the base (its own policy, not ours).
	req := httptest.NewRequest(http.MethodGet, "http://elsewhere.example/x", nil)
	req.Header.Set("Authorization", "Bearer theirs")
	if err := withOwn.CheckRedirect(req, make([]*http.Request, 20)); err != nil || req.Header.Get("Authorization") == "" {
		t.Errorf("the caller's CheckRedirect now returns %v and leaves Authorization %q", err, req.Header.Get("Authorization"))
	}
}

// TestWithAPIKeyEmptyDoesNotFallBackToEnv: an explicit empty key (say, an
// empty value in a configuration file) is missing, not a reason to take
// another key from the environment.
func TestWithAPIKeyEmptyDoesNotFallBackToEnv(t *testing.T) {
	t.Setenv(EnvAPIKey, "pk_from_env_must_not_be_used")
	_, err := NewClient(WithAPIKey(""), WithBaseURL("http://127.0.0.1:1/v1"))
	if !errors.Is(err, ErrMissingAPIKey) {
		t.Fatalf("NewClient(WithAPIKey(\"\")) with %s set: err = %v, want ErrMissingAPIKey", EnvAPIKey, err)
	}
}

// TestDefaultTransportTimeouts inspects the default transport: every step
// before a response (connect, TLS handshake, response headers) has a bound
// of its own, so that a call without a deadline (WithTimeout(0)) cannot
// hang on one of them.
func TestDefaultTransportTimeouts(t *testing.T) {
	c := relClient(t, "https://api.pagecall.invalid/v1")
	tr, ok := c.loop.hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("default transport is %T", c.loop.hc.Transport)
	}
	for _, f := range []struct {
		name     string
		got, max time.Duration
	}{
		{"TLSHandshakeTimeout", tr.TLSHandshakeTimeout, 30 * time.Second},
		{"ResponseHeaderTimeout", tr.ResponseHeaderTimeout, time.Minute},
		{"IdleConnTimeout", tr.IdleConnTimeout, 5 * time.Minute},
	} {
		if f.got <= 0 || f.got > f.max {
			t.Errorf("%s = %v, want in (0, %v]", f.name, f.got, f.max)
		}
	}
	if tr.DialContext == nil {
		t.Error("no DialContext: the connect timeout is net/http's (none)")
	}
	t.Logf("dial %v, TLS handshake %v, response header %v, idle %v", dialTimeout, tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout, tr.IdleConnTimeout)
}

// TestDefaultTransportStepTimeouts proves the connect and TLS-handshake
// bounds by hitting them: with no deadline of the caller's and
// WithTimeout(0), a connect that never completes and a server that never
// answers the TLS hello each end in about 10 s with a timeout error.
func TestDefaultTransportStepTimeouts(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 10 s connect and TLS-handshake timeouts")
	}
	t.Parallel()

	run := func(t *testing.T, base string, want func(error) bool) {
		c := relClient(t, base, WithTimeout(0), WithMaxRetries(0))
		// The caller's own bound, far past the transport's; only hit if
		// the transport has none.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.DeleteUser(ctx, "u1")
		elapsed := time.Since(start)
		t.Logf("after %v: %v", elapsed.Round(time.Millisecond), err)
		if err == nil || ctx.Err() != nil || !want(err) {
			t.Fatalf("err = %v (caller's context: %v), want the transport's own timeout", err, ctx.Err())
		}
		if elapsed > 10*time.Second+relSlack {
			t.Errorf("returned after %v, want about 10 s", elapsed)
		}
	}

	t.Run("connect", func(t *testing.T) {
		t.Parallel()
		addr := relFullBacklog(t)
		run(t, "http://"+addr+"/v1", func(err error) bool {
			var op *net.OpError
			return errors.As(err, &op) && op.Op == "dial" && op.Timeout()
		})
	})
	t.Run("TLS handshake", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			var held []net.Conn
			defer func() {
				for _, c := range held {
					c.Close()
				}
			}()
			for {
				c, err := ln.Accept() // accept, then never answer the hello
				if err != nil {
					return
				}
				held = append(held, c)
			}
		})
		t.Cleanup(func() { ln.Close(); wg.Wait() })
		run(t, "https://"+ln.Addr().String()+"/v1", func(err error) bool {
			return strings.Contains(err.Error(), "TLS handshake timeout")
		})
	})
}
