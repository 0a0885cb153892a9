package pagecalltest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/pagecalltest"
)

const exampleUser = "external_user_102932"

// result is what a plain net/http client got back.
type result struct {
	status int
	header http.Header
	body   []byte
	err    error // transport or body-read error
}

func (r result) message(t *testing.T) string {
	t.Helper()
	var m struct{ Message string }
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON error: %v", r.body, err)
	}
	return m.Message
}

// send makes one request with the given bearer key ("" for none).
func send(ctx context.Context, s *pagecalltest.Server, method, path, key, body string) result {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL()+path, rd)
	if err != nil {
		return result{err: err}
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// A new transport per request: faults close connections, and a reused
	// connection would blur which request a fault hit.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func deleteUser(s *pagecalltest.Server, id string) result {
	return send(context.Background(), s, http.MethodDelete, "/users/"+id, pagecalltest.APIKey, "")
}

// deleteTemplate returns the document's path template of DeleteUser and the
// name of its user parameter, so that the tests hold for /users/{id} (2023
// documents) and /users/{user_id} alike: CI runs them on every version.
func deleteTemplate(t *testing.T, s *pagecalltest.Server) (template, param string) {
	t.Helper()
	for _, op := range s.Operations() {
		if strings.EqualFold(op.OperationID, "DeleteUser") && op.Method == http.MethodDelete {
			i := strings.LastIndex(op.Path, "{")
			return op.Path, strings.Trim(op.Path[i:], "{}")
		}
	}
	t.Skip("the document has no DeleteUser operation")
	return "", ""
}

// waitRequests waits until the log holds n requests: a request is logged
// when its handler is done, which may be after the client saw a reset.
func waitRequests(t *testing.T, s *pagecalltest.Server, n int) []pagecalltest.Request {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Requests()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return s.Requests()
}

func TestURLAndAddrAreLoopback(t *testing.T) {
	s := pagecalltest.NewTestServer(t)
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/v1") {
		t.Errorf("URL() = %q, want http://127.0.0.1:<port>/v1", s.URL())
	}
	if !strings.Contains(s.URL(), s.Addr()) {
		t.Errorf("URL() %q does not contain Addr() %q", s.URL(), s.Addr())
	}
}

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name       string
		auth       string // raw Authorization header
		opts       []pagecalltest.Option
		wantStatus int
		wantMsg    string
	}{
		// Pagecall's document declares 400 ("...Unauthenticated or
		// Unauthorized") for a refused key, not 401.
		{"missing key", "", nil, http.StatusBadRequest, "missing API key"},
		{"wrong key", "Bearer nope", nil, http.StatusBadRequest, "invalid API key"},
		{"not a bearer", "Basic " + pagecalltest.APIKey, nil, http.StatusBadRequest, "missing API key"},
		{"right key", "Bearer " + pagecalltest.APIKey, nil, http.StatusOK, ""},
		{"lowercase scheme", "bearer " + pagecalltest.APIKey, nil, http.StatusOK, ""},
		{"custom key", "Bearer sk-custom", []pagecalltest.Option{pagecalltest.WithAPIKey("sk-custom")}, http.StatusOK, ""},
		{"default key refused when custom set", "Bearer " + pagecalltest.APIKey, []pagecalltest.Option{pagecalltest.WithAPIKey("sk-custom")}, http.StatusBadRequest, "invalid API key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := pagecalltest.NewTestServer(t, tt.opts...)
			req, _ := http.NewRequest(http.MethodDelete, s.URL()+"/users/"+exampleUser, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := result{status: resp.StatusCode, header: resp.Header, body: b}
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", r.status, tt.wantStatus, b)
			}
			if tt.wantMsg != "" && r.message(t) != tt.wantMsg {
				t.Errorf("message %q, want %q", r.message(t), tt.wantMsg)
			}
			// A refused request must not have touched the store.
			if exists := s.UserExists(exampleUser); exists != (tt.wantStatus != http.StatusOK) {
				t.Errorf("UserExists = %v after status %d", exists, r.status)
			}
		})
	}
}

func TestRoutingAndValidationErrors(t *testing.T) {
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantInMsg          string
		wantAllow          string
	}{
		{"unknown route", http.MethodGet, "/no/such/thing", http.StatusNotFound, "no operation", ""},
		{"outside the base path", http.MethodDelete, "/../users/" + exampleUser, http.StatusNotFound, "no operation", ""},
		{"method not allowed", http.MethodPatch, "/users/" + exampleUser, http.StatusMethodNotAllowed, "not allowed", http.MethodDelete},
		{"missing path parameter", http.MethodDelete, "/users/", http.StatusBadRequest, "{param}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := pagecalltest.NewTestServer(t)
			if tt.wantInMsg == "{param}" {
				_, param := deleteTemplate(t, s)
				tt.wantInMsg = `"` + param + `"`
			}
			r := send(context.Background(), s, tt.method, tt.path, pagecalltest.APIKey, "")
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", r.status, tt.wantStatus, r.body)
			}
			if msg := r.message(t); !strings.Contains(msg, tt.wantInMsg) {
				t.Errorf("message %q does not contain %q", msg, tt.wantInMsg)
			}
			if tt.wantAllow != "" && !strings.Contains(r.header.Get("Allow"), tt.wantAllow) {
				t.Errorf("Allow %q does not list %s", r.header.Get("Allow"), tt.wantAllow)
			}
		})
	}
}

func TestDeleteThenDeleteAgain(t *testing.T) {
	s := pagecalltest.NewTestServer(t)
	if !s.UserExists(exampleUser) {
		t.Fatalf("store is not seeded with the example user %s", exampleUser)
	}

	first := deleteUser(s, exampleUser)
	if first.err != nil || first.status != http.StatusOK {
		t.Fatalf("first delete: status %d, err %v, body %s", first.status, first.err, first.body)
	}
	var got struct {
		User map[string]any `json:"user"`
	}
	if err := json.Unmarshal(first.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.User["user_id"] != exampleUser {
		t.Errorf("deleted user_id = %v, want %s", got.User["user_id"], exampleUser)
	}
	if s.UserExists(exampleUser) {
		t.Error("user still exists after delete")
	}

	second := deleteUser(s, exampleUser)
	if second.status != http.StatusBadRequest || second.message(t) != "user not found" {
		t.Errorf("second delete: status %d body %s, want 400 user not found", second.status, second.body)
	}

	s.AddUser("alice", map[string]any{"name": "Alice"})
	if r := deleteUser(s, "alice"); r.status != http.StatusOK || !strings.Contains(string(r.body), `"Alice"`) {
		t.Errorf("delete of an added user: status %d body %s", r.status, r.body)
	}
}

func TestRequestLog(t *testing.T) {
	s := pagecalltest.NewTestServer(t)
	template, _ := deleteTemplate(t, s)
	send(context.Background(), s, http.MethodDelete, "/users/a%20b?trace=1", pagecalltest.APIKey, `{"x":1}`)
	s.Inject(pagecalltest.Fault{Status: http.StatusServiceUnavailable})
	send(context.Background(), s, http.MethodGet, "/nowhere", "", "")

	reqs := s.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests logged, want 2", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodDelete || r.Path != "/v1/users/a%20b" || r.RawQuery != "trace=1" ||
		string(r.Body) != `{"x":1}` || r.Header.Get("Authorization") != "Bearer "+pagecalltest.APIKey ||
		r.Route != "DELETE "+template || r.OperationID != "DeleteUser" ||
		r.Status != http.StatusBadRequest || r.Fault != nil || r.Time.IsZero() {
		t.Errorf("first request logged as %+v", r)
	}
	if r := reqs[1]; r.Status != http.StatusServiceUnavailable || r.Fault == nil || r.Route != "" {
		t.Errorf("second request logged as %+v", r)
	}

	s.ResetRequests()
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests after ResetRequests", n)
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		faults []pagecalltest.Fault
		// run sends requests and checks what the client saw.
		run func(t *testing.T, s *pagecalltest.Server)
	}{
		{
			name:   "status with Retry-After, then normal",
			faults: []pagecalltest.Fault{{Status: http.StatusTooManyRequests, RetryAfter: "2"}},
			run: func(t *testing.T, s *pagecalltest.Server) {
				r := deleteUser(s, exampleUser)
				if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
					t.Fatalf("got %d Retry-After %q, want 429 with Retry-After 2", r.status, r.header.Get("Retry-After"))
				}
				if !s.UserExists(exampleUser) {
					t.Fatal("a faulted request reached the store")
				}
				if r := deleteUser(s, exampleUser); r.status != http.StatusOK {
					t.Fatalf("after the fault: status %d, want 200", r.status)
				}
			},
		},
		{
			name:   "custom body",
			faults: []pagecalltest.Fault{{Status: http.StatusBadGateway, Body: []byte("<html>bad gateway</html>")}},
			run: func(t *testing.T, s *pagecalltest.Server) {
				r := deleteUser(s, exampleUser)
				if r.status != http.StatusBadGateway || string(r.body) != "<html>bad gateway</html>" ||
					!strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
					t.Fatalf("got %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
				}
			},
		},
		{
			name:   "count applies to the next N requests",
			faults: []pagecalltest.Fault{{Status: http.StatusServiceUnavailable, Count: 2}},
			run: func(t *testing.T, s *pagecalltest.Server) {
				for i, want := range []int{503, 503, 200} {
					if r := deleteUser(s, exampleUser); r.status != want {
						t.Fatalf("request %d: status %d, want %d", i, r.status, want)
					}
				}
			},
		},
		{
			name: "FIFO order",
			faults: []pagecalltest.Fault{
				{Status: http.StatusInternalServerError},
				{Status: http.StatusServiceUnavailable},
			},
			run: func(t *testing.T, s *pagecalltest.Server) {
				for i, want := range []int{500, 503} {
					if r := deleteUser(s, exampleUser); r.status != want {
						t.Fatalf("request %d: status %d, want %d", i, r.status, want)
					}
				}
			},
		},
		{
			name: "route filter by template, method and literal path",
			faults: []pagecalltest.Fault{
				{Route: "DELETE {template}", Status: 500},
				{Route: "GET", Status: 502},
				{Route: "/v1/users/bob", Status: 504},
			},
			run: func(t *testing.T, s *pagecalltest.Server) {
				if r := send(ctx, s, http.MethodPost, "/elsewhere", "", ""); r.status != http.StatusNotFound {
					t.Fatalf("unmatched request got %d, want 404", r.status)
				}
				if r := send(ctx, s, http.MethodGet, "/elsewhere", "", ""); r.status != 502 {
					t.Fatalf("GET got %d, want the GET fault 502", r.status)
				}
				if r := deleteUser(s, exampleUser); r.status != 500 {
					t.Fatalf("DELETE /users/x got %d, want the template fault 500", r.status)
				}
				if r := deleteUser(s, "bob"); r.status != 504 {
					t.Fatalf("DELETE /users/bob got %d, want the path fault 504", r.status)
				}
				if n := s.PendingFaults(); n != 0 {
					t.Fatalf("%d faults left", n)
				}
			},
		},
		{
			name:   "connection reset",
			faults: []pagecalltest.Fault{{Reset: true}},
			run: func(t *testing.T, s *pagecalltest.Server) {
				r := deleteUser(s, exampleUser)
				if r.err == nil {
					t.Fatalf("got status %d, want a transport error", r.status)
				}
				if !errors.Is(r.err, syscall.ECONNRESET) {
					t.Errorf("error %v is not ECONNRESET", r.err)
				}
				if got := waitRequests(t, s, 1); len(got) != 1 || got[0].Status != 0 || got[0].Fault == nil || !got[0].Fault.Reset {
					t.Errorf("log %+v", got)
				}
			},
		},
		{
			name:   "truncated body",
			faults: []pagecalltest.Fault{{Truncate: true}},
			run: func(t *testing.T, s *pagecalltest.Server) {
				r := deleteUser(s, exampleUser)
				if r.status != http.StatusOK {
					t.Fatalf("status %d, want the normal 200 with a cut body", r.status)
				}
				if !errors.Is(r.err, io.ErrUnexpectedEOF) {
					t.Errorf("body read error %v, want unexpected EOF", r.err)
				}
				if json.Valid(r.body) {
					t.Errorf("body %s is complete", r.body)
				}
			},
		},
		{
			name:   "delay then normal answer",
			faults: []pagecalltest.Fault{{Delay: 150 * time.Millisecond}},
			run: func(t *testing.T, s *pagecalltest.Server) {
				start := time.Now()
				r := deleteUser(s, exampleUser)
				if r.status != http.StatusOK {
					t.Fatalf("status %d", r.status)
				}
				if d := time.Since(start); d < 150*time.Millisecond {
					t.Errorf("answered after %v, want at least 150ms", d)
				}
			},
		},
		{
			name:   "delay ends when the client gives up",
			faults: []pagecalltest.Fault{{Delay: time.Minute}},
			run: func(t *testing.T, s *pagecalltest.Server) {
				cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
				defer cancel()
				if r := send(cctx, s, http.MethodDelete, "/users/"+exampleUser, pagecalltest.APIKey, ""); !errors.Is(r.err, context.DeadlineExceeded) {
					t.Fatalf("err %v, want deadline exceeded", r.err)
				}
				// The handler must notice and log the request unanswered.
				if got := waitRequests(t, s, 1); len(got) != 1 || got[0].Status != 0 {
					t.Fatalf("log %+v, want one unanswered request", got)
				}
				if !s.UserExists(exampleUser) {
					t.Error("the abandoned request reached the store")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := pagecalltest.NewTestServer(t)
			template, _ := deleteTemplate(t, s)
			for _, f := range tt.faults {
				f.Route = strings.ReplaceAll(f.Route, "{template}", template)
				s.Inject(f)
			}
			tt.run(t, s)
		})
	}
}

func TestCloseAbortsDelayedRequests(t *testing.T) {
	s, err := pagecalltest.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	s.Inject(pagecalltest.Fault{Delay: time.Minute})
	done := make(chan result, 1)
	go func() { done <- deleteUser(s, exampleUser) }()
	deadline := time.Now().Add(5 * time.Second)
	for s.PendingFaults() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.PendingFaults() != 0 {
		t.Fatal("the request never reached the server")
	}

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung on a delayed request")
	}
	if r := <-done; r.err == nil {
		t.Errorf("delayed request got status %d after Close, want a transport error", r.status)
	}
	s.Close() // a second Close is harmless
}

func TestConcurrentUse(t *testing.T) {
	s := pagecalltest.NewTestServer(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 5 {
				if j%2 == 0 {
					s.Inject(pagecalltest.Fault{Route: "GET", Status: 503})
				}
				send(context.Background(), s, http.MethodGet, "/users/x", pagecalltest.APIKey, "")
				deleteUser(s, exampleUser)
				s.AddUser(exampleUser, nil)
				_ = s.Requests()
				_ = s.UserExists(exampleUser)
				_ = i
			}
		})
	}
	wg.Wait()
	if n := len(s.Requests()); n != 8*5*2 {
		t.Errorf("%d requests logged, want %d", n, 8*5*2)
	}
}

// fakeTB records what NewTestServer asks of its TB.
type fakeTB struct {
	fatal    string
	cleanups []func()
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }

func TestNewTestServer(t *testing.T) {
	t.Run("fails the test when it cannot listen", func(t *testing.T) {
		tb := &fakeTB{}
		if s := pagecalltest.NewTestServer(tb, pagecalltest.WithAddr("256.0.0.1:0")); s != nil {
			t.Error("got a server")
		}
		if tb.fatal == "" {
			t.Error("Fatalf not called")
		}
	})
	t.Run("closes the server at cleanup", func(t *testing.T) {
		tb := &fakeTB{}
		s := pagecalltest.NewTestServer(tb)
		if len(tb.cleanups) != 1 {
			t.Fatalf("%d cleanups registered, want 1", len(tb.cleanups))
		}
		if r := deleteUser(s, exampleUser); r.status != http.StatusOK {
			t.Fatalf("status %d before cleanup", r.status)
		}
		tb.cleanups[0]()
		if r := deleteUser(s, exampleUser); r.err == nil {
			t.Errorf("status %d after cleanup, want a connection error", r.status)
		}
	})
	t.Run("serves on a given listener", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := pagecalltest.NewTestServer(t, pagecalltest.WithListener(ln))
		if s.Addr() != ln.Addr().String() {
			t.Errorf("Addr %s, want %s", s.Addr(), ln.Addr())
		}
		if r := deleteUser(s, exampleUser); r.status != http.StatusOK {
			t.Errorf("status %d", r.status)
		}
	})
}
