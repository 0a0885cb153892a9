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
	"net/url"
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

func TestRetryByStatus(t *testing.T) {
	tests := []struct {
		status       int
		wantAttempts int64
	}{
		{http.StatusRequestTimeout, 3},
		{http.StatusTooManyRequests, 3},
		{http.StatusInternalServerError, 3},
		{http.StatusBadGateway, 3},
		{http.StatusServiceUnavailable, 3},
		{http.StatusGatewayTimeout, 3},
		{599, 3},
		{http.StatusNotImplemented, 1},
		{http.StatusBadRequest, 1},
		{http.StatusUnauthorized, 1},
		{http.StatusForbidden, 1},
		{http.StatusNotFound, 1},
		{http.StatusConflict, 1},
		{http.StatusUnprocessableEntity, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			c, mux, ts := setup(t)
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
			})
			_, err := c.DeleteUser(context.Background(), testUserID)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if apiErr.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", apiErr.StatusCode, tt.status)
			}
			if got := ts.hits.Load(); got != tt.wantAttempts || int64(apiErr.Attempts) != tt.wantAttempts {
				t.Errorf("server saw %d attempts, error says %d; want %d", got, apiErr.Attempts, tt.wantAttempts)
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	c, mux, ts := setup(t)
	mux.HandleFunc("/v1/users/{id}", failThen(2, http.StatusBadGateway, "", okUser))
	u, err := c.DeleteUser(context.Background(), testUserID)
	if err != nil || u.UserID != testUserID {
		t.Fatalf("DeleteUser = %+v, %v; want the user", u, err)
	}
	if n := ts.hits.Load(); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
}

func TestWithMaxRetries(t *testing.T) {
	for _, n := range []int{0, 1, 4} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			// WithMaxRetries wins over WithRetryPolicy whatever the order.
			c, mux, ts := setup(t, WithMaxRetries(n), WithRetryPolicy(fastRetries()))
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			_, err := c.DeleteUser(context.Background(), testUserID)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("err = %v, want *APIError 503", err)
			}
			if got := ts.hits.Load(); got != int64(n+1) {
				t.Errorf("attempts = %d, want %d", got, n+1)
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

func TestRetryConnectionFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault func(t *testing.T, w http.ResponseWriter)
	}{
		{"reset before response", func(t *testing.T, w http.ResponseWriter) {
			if conn := hijack(t, w); conn != nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
		}},
		{"EOF before response", func(t *testing.T, w http.ResponseWriter) {
			if conn := hijack(t, w); conn != nil {
				conn.Close()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" then success", func(t *testing.T) {
			c, mux, ts := setup(t)
			var n atomic.Int64
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					tt.fault(t, w)
					return
				}
				okUser(w, r)
			})
			if _, err := c.DeleteUser(context.Background(), testUserID); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			if got := ts.hits.Load(); got != 2 {
				t.Errorf("attempts = %d, want 2", got)
			}
		})
		t.Run(tt.name+" every time", func(t *testing.T) {
			c, mux, ts := setup(t)
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) { tt.fault(t, w) })
			_, err := c.DeleteUser(context.Background(), testUserID)
			var reqErr *RequestError
			if !errors.As(err, &reqErr) || reqErr.Attempts != 3 {
				t.Fatalf("err = %v, want *RequestError after 3 attempts", err)
			}
			if got := ts.hits.Load(); got != 3 {
				t.Errorf("server saw %d attempts, want 3", got)
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		c, err := NewClient(WithAPIKey(testKey), WithBaseURL("http://"+addr+"/v1"), WithRetryPolicy(fastRetries()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteUser(context.Background(), testUserID)
		var reqErr *RequestError
		var opErr *net.OpError
		if !errors.As(err, &reqErr) || reqErr.Attempts != 3 || !errors.As(err, &opErr) || opErr.Op != "dial" {
			t.Fatalf("err = %v, want a dial *net.OpError in a *RequestError after 3 attempts", err)
		}
	})
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name   string
		status int
		value  func() string
	}{
		{"429 seconds", http.StatusTooManyRequests, func() string { return "1" }},
		{"503 HTTP-date", http.StatusServiceUnavailable, func() string {
			return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Backoff alone would wait a millisecond; only Retry-After can
			// make the client wait about a second.
			c, mux, _ := setup(t)
			var mu sync.Mutex
			var at []time.Time
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				at = append(at, time.Now())
				n := len(at)
				mu.Unlock()
				if n == 1 {
					w.Header().Set("Retry-After", tt.value())
					w.WriteHeader(tt.status)
					return
				}
				okUser(w, r)
			})
			if _, err := c.DeleteUser(context.Background(), testUserID); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			if len(at) != 2 {
				t.Fatalf("attempts = %d, want 2", len(at))
			}
			if gap := at[1].Sub(at[0]); gap < 900*time.Millisecond {
				t.Errorf("retry came %v after the first attempt; Retry-After asked for about 1s", gap)
			}
		})
	}
}

func TestRetryAfterPastCapOrDeadlineFailsAtOnce(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		deadline   time.Duration
		policy     RetryPolicy
	}{
		// Without the cap the client would sleep 5s and try again.
		{"past cap", "5", 30 * time.Second, RetryPolicy{MaxRetries: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxRetryAfter: time.Second}},
		{"past deadline", "10", 2 * time.Second, fastRetries()},
		// Plain backoff longer than the time left is not slept either.
		{"backoff past deadline", "", 2 * time.Second, RetryPolicy{MaxRetries: 2, InitialBackoff: time.Minute, MaxBackoff: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, ts := setup(t, WithRetryPolicy(tt.policy))
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			ctx, cancel := context.WithTimeout(context.Background(), tt.deadline)
			defer cancel()
			_, err := c.DeleteUser(ctx, testUserID)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the 503 *APIError at once, not a timeout", err)
			}
			if n := ts.hits.Load(); n != 1 || apiErr.Attempts != 1 {
				t.Errorf("attempts = %d (error says %d), want 1", n, apiErr.Attempts)
			}
			if tt.retryAfter == "5" && apiErr.RetryAfter != 5*time.Second {
				t.Errorf("RetryAfter = %v, want 5s", apiErr.RetryAfter)
			}
		})
	}
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

// logHook is a slog.Handler that calls a function for each debug record.
type logHook func(slog.Record)

func (logHook) Enabled(context.Context, slog.Level) bool        { return true }
func (h logHook) Handle(_ context.Context, r slog.Record) error { h(r); return nil }
func (h logHook) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h logHook) WithGroup(string) slog.Handler                 { return h }

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

func TestAPIErrorFields(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-42")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message": "user not found"}`)
	})
	_, err := c.DeleteUser(context.Background(), "nobody")
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	want := APIError{StatusCode: 400, Method: "DELETE", Path: "/v1/users/nobody", Message: "user not found", RequestID: "req-42", Attempts: 1}
	got := *apiErr
	got.Body, got.Header = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("APIError = %+v\nwant %+v", got, want)
	}
	if string(apiErr.Body) != `{"message": "user not found"}` {
		t.Errorf("Body = %q", apiErr.Body)
	}
	if msg := err.Error(); msg != "pagecall: DELETE /v1/users/nobody: 400 Bad Request: user not found (request id req-42)" {
		t.Errorf("Error() = %q", msg)
	}
}

func TestAPIOperationsGetTheSameTreatment(t *testing.T) {
	c, mux, ts := setup(t)
	var auths []string
	var mu sync.Mutex
	failOnce := failThen(1, http.StatusServiceUnavailable, "", okUser)
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		failOnce(w, r)
	})

	resp, err := Check(c.API().DeleteUserWithResponse(context.Background(), testUserID))
	if err != nil {
		t.Fatalf("API().DeleteUserWithResponse: %v", err)
	}
	if resp.JSON200 == nil || resp.JSON200.User.UserID != testUserID {
		t.Errorf("JSON200 = %+v", resp.JSON200)
	}
	if n := ts.hits.Load(); n != 2 {
		t.Errorf("attempts = %d, want 2 (retried through API())", n)
	}
	for _, a := range auths {
		if a != "Bearer "+testKey {
			t.Errorf("Authorization = %q", a)
		}
	}

	// A request an editor points at another host is not sent, and the key
	// goes nowhere.
	other := newTestServer(t)
	other.mux.HandleFunc("/", okUser)
	otherURL, _ := url.Parse(other.URL)
	_, err = Check(c.API().DeleteUserWithResponse(context.Background(), testUserID, func(_ context.Context, r *http.Request) error {
		r.URL.Host = otherURL.Host
		return nil
	}))
	if !errors.Is(err, ErrOutsideBaseURL) {
		t.Errorf("err = %v, want ErrOutsideBaseURL", err)
	}
	if n := other.hits.Load(); n != 0 {
		t.Errorf("other host got %d requests", n)
	}
}

func TestCheckMapsResponsesFromAnyClient(t *testing.T) {
	ts := newTestServer(t)
	ts.mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "no such user\n")
	})
	// A bare generated client: no request loop, non-2xx come back as
	// responses.
	raw, err := wire.NewClientWithResponses(ts.base())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Check(raw.DeleteUserWithResponse(context.Background(), "ghost"))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || resp != nil {
		t.Fatalf("Check = %v, %v; want nil and *APIError", resp, err)
	}
	if apiErr.StatusCode != 400 || apiErr.Message != "no such user" || apiErr.Method != "DELETE" || apiErr.Path != "/v1/users/ghost" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if _, err := Check[*wire.DeleteUserResponse](nil, nil); err == nil {
		t.Error("Check(nil, nil) = nil error")
	}
}

func TestMethodAwareRetries(t *testing.T) {
	tests := []struct {
		method       string
		status       int
		wantAttempts int
	}{
		{http.MethodPost, http.StatusBadGateway, 1},
		{http.MethodPost, http.StatusInternalServerError, 1},
		{http.MethodPost, http.StatusGatewayTimeout, 1},
		{http.MethodPost, http.StatusServiceUnavailable, 1},
		{http.MethodPatch, http.StatusServiceUnavailable, 1},
		{http.MethodPost, http.StatusTooManyRequests, 3},
		{http.MethodPut, http.StatusServiceUnavailable, 3},
		{http.MethodGet, http.StatusBadGateway, 3},
		{http.MethodDelete, http.StatusGatewayTimeout, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.method, " ", tt.status), func(t *testing.T) {
			c, mux, _ := setup(t)
			var bodies []string
			var mu sync.Mutex
			mux.HandleFunc("/v1/rooms/r1", func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				mu.Unlock()
				w.WriteHeader(tt.status)
			})
			// A plain body without GetBody: the loop must buffer it for replay.
			payload := `{"name":"standup","is_ephemeral":true}`
			req, err := http.NewRequestWithContext(context.Background(), tt.method, c.BaseURL()+"/rooms/r1", io.NopCloser(strings.NewReader(payload)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.loop.Do(req)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
				t.Fatalf("err = %v, want *APIError %d", err, tt.status)
			}
			if len(bodies) != tt.wantAttempts {
				t.Fatalf("sent %d times, want %d", len(bodies), tt.wantAttempts)
			}
			for i, b := range bodies {
				if b != payload {
					t.Errorf("attempt %d body = %q, want %q", i+1, b, payload)
				}
			}
		})
	}
}

func TestPostRetriedOnlyWhenNeverSent(t *testing.T) {
	t.Run("dial failure", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c, err := NewClient(WithAPIKey(testKey), WithBaseURL("http://"+addr+"/v1"), WithRetryPolicy(fastRetries()))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, c.BaseURL()+"/rooms", strings.NewReader("{}"))
		_, err = c.loop.Do(req)
		var reqErr *RequestError
		if !errors.As(err, &reqErr) || reqErr.Attempts != 3 {
			t.Fatalf("err = %v, want 3 attempts (nothing reached the server)", err)
		}
	})
	t.Run("reset after the request was written", func(t *testing.T) {
		c, mux, ts := setup(t)
		mux.HandleFunc("/v1/rooms", func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			if conn := hijack(t, w); conn != nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
		})
		req, _ := http.NewRequest(http.MethodPost, c.BaseURL()+"/rooms", strings.NewReader("{}"))
		_, err := c.loop.Do(req)
		var reqErr *RequestError
		if !errors.As(err, &reqErr) {
			t.Fatalf("err = %v, want *RequestError", err)
		}
		if n := ts.hits.Load(); n != 1 {
			t.Errorf("POST sent %d times after an ambiguous reset, want 1", n)
		}
	})
}
