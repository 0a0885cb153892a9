// These tests use the checked-in spec's own operations.

//go:build !anyspec

package pagecall

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWithHeader: a header reaches every attempt of the call, and a
// forbidden or invalid one fails the call before anything is sent.
func TestWithHeader(t *testing.T) {
	c, mux, ts := setup(t)
	seen := headerPerAttempt(mux, "X-Trace")
	if _, err := c.GetUser(context.Background(), "a", WithHeader("X-Trace", "old"), WithHeader("X-Trace", "t-1")); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got := seen(); len(got) != 2 || got[0] != "t-1" || got[1] != "t-1" {
		t.Errorf("X-Trace on each attempt = %q, want the later value t-1 on both", got)
	}

	for _, h := range [][2]string{
		{"Authorization", "Bearer other"}, {"host", "evil"}, {"Content-Length", "1"}, {"Content-Type", "text/plain"},
		{"Transfer-Encoding", "chunked"}, {"User-Agent", "x"}, {"Bad Name", "v"}, {"X-Ok", "line\r\nInjected: 1"}, {"", "v"},
	} {
		before := ts.hits.Load()
		_, err := c.GetUser(context.Background(), "a", WithHeader(h[0], h[1]))
		if !errors.Is(err, ErrInvalidHeader) {
			t.Errorf("WithHeader(%q, %q): err = %v, want ErrInvalidHeader", h[0], h[1], err)
		}
		if ts.hits.Load() != before {
			t.Errorf("WithHeader(%q, %q) was refused but a request was sent", h[0], h[1])
		}
	}
}

// headerPerAttempt serves GET /v1/users/{id} with a 503 to the first
// attempt and a user to the next, and returns what each attempt sent in
// header name.
func headerPerAttempt(mux *http.ServeMux, name string) func() []string {
	var mu sync.Mutex
	var got []string
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get(name))
		n := len(got)
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, `{"user":{"user_id":"a"}}`)
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// TestWithCallTimeout: a per-call timeout shorter than the client's ends
// the call at its own bound; a shorter context deadline still wins.
func TestWithCallTimeout(t *testing.T) {
	c, mux, _ := setup(t, WithTimeout(time.Minute))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	var info ResponseInfo
	_, err := c.GetUser(context.Background(), "a", WithCallTimeout(50*time.Millisecond), WithResponseInfo(&info))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the call's own deadline", err)
	}
	if info.Duration >= time.Minute {
		t.Errorf("the call took %s, the client's timeout, not its own", info.Duration)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = c.GetUser(ctx, "a", WithCallTimeout(time.Hour))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's shorter deadline to win", err)
	}
}

// TestWithCallMaxRetries: retries 0 sends one request; a higher count
// retries past the client's policy.
func TestWithCallMaxRetries(t *testing.T) {
	for _, tt := range []struct{ retries, want int }{{0, 1}, {1, 2}, {4, 5}} {
		t.Run(fmt.Sprint(tt.retries), func(t *testing.T) {
			c, mux, ts := setup(t)
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadGateway)
			})
			var info ResponseInfo
			_, err := c.GetUser(context.Background(), "a", WithCallMaxRetries(tt.retries), WithResponseInfo(&info))
			if err == nil {
				t.Fatal("GetUser succeeded against a 502")
			}
			if n := ts.hits.Load(); n != int64(tt.want) || info.Attempts != tt.want {
				t.Errorf("requests = %d (info says %d), want %d", n, info.Attempts, tt.want)
			}
		})
	}
}

// TestWithIdempotent: a POST is not retried after a 502 unless the call is
// marked idempotent.
func TestWithIdempotent(t *testing.T) {
	for _, mark := range []bool{false, true} {
		t.Run(fmt.Sprint(mark), func(t *testing.T) {
			c, mux, ts := setup(t)
			mux.HandleFunc("POST /v1/rooms", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadGateway)
			})
			var opts []CallOption
			if mark {
				opts = append(opts, WithIdempotent())
			}
			_, _ = c.CreateRoom(context.Background(), CreateRoomRequest{Name: "r", Type: RoomTypePublic}, opts...)
			want := int64(1)
			if mark {
				want = 3
			}
			if n := ts.hits.Load(); n != want {
				t.Errorf("requests = %d, want %d", n, want)
			}
		})
	}
}

// TestUserAgent: every attempt names the SDK, its version and platform,
// after the integrator's product token.
func TestUserAgent(t *testing.T) {
	c, mux, _ := setup(t, WithUserAgent("myapp/1.4"))
	seen := headerPerAttempt(mux, "User-Agent")
	if _, err := c.GetUser(context.Background(), "a"); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	want := fmt.Sprintf("myapp/1.4 pagecall-go/(devel) (%s/%s; %s)", runtime.GOOS, runtime.GOARCH, runtime.Version())
	if got := seen(); len(got) != 2 || got[0] != want || got[1] != want {
		t.Errorf("User-Agent per attempt = %q, want %q on both", got, want)
	}
	for _, bad := range []string{"my\napp", "app\x00"} {
		if _, err := NewClient(WithAPIKey(testKey), WithUserAgent(bad)); !errors.Is(err, ErrInvalidHeader) {
			t.Errorf("WithUserAgent(%q): err = %v, want ErrInvalidHeader", bad, err)
		}
	}
	c2, _, _ := setup(t)
	if ua := c2.loop.userAgent[0]; !strings.HasPrefix(ua, "pagecall-go/") {
		t.Errorf("User-Agent without a product = %q, want it to start with pagecall-go/", ua)
	}
}

// TestIteratorAppliesOptions: an iterator sends the call's options with
// every page, and the info describes the last page.
func TestIteratorAppliesOptions(t *testing.T) {
	c, mux, _ := setup(t)
	var mu sync.Mutex
	var traces []string
	mux.HandleFunc("GET /v1/rooms", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traces = append(traces, r.Header.Get("X-Trace"))
		page := len(traces)
		mu.Unlock()
		w.Header().Set("X-Request-Id", fmt.Sprint("page-", page))
		if page == 1 {
			writeJSON(w, `{"rooms":[{"id":"a"},{"id":"b"}],"paging":{"offset":0,"limit":2,"total":3}}`)
			return
		}
		writeJSON(w, `{"rooms":[{"id":"c"}],"paging":{"offset":2,"limit":2,"total":3}}`)
	})
	var info ResponseInfo
	n := 0
	for _, err := range c.ListRoomsSeq(context.Background(), &ListRoomsParams{Limit: Ptr(2)}, WithHeader("X-Trace", "t"), WithResponseInfo(&info)) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 || len(traces) != 2 || traces[0] != "t" || traces[1] != "t" {
		t.Errorf("items = %d, X-Trace per page = %q; want 3 items and t on both pages", n, traces)
	}
	if info.RequestID != "page-2" {
		t.Errorf("ResponseInfo.RequestID = %q, want the last page's", info.RequestID)
	}
}

// TestWithCallTimeoutZero: WithCallTimeout(0) means no per-call bound: the
// call is not failed at once, and the client's shorter timeout does not
// apply either; only the context's deadline would.
func TestWithCallTimeoutZero(t *testing.T) {
	c, mux, _ := setup(t, WithTimeout(30*time.Millisecond))
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		writeJSON(w, `{"user":{"user_id":"a"}}`)
	})
	var info ResponseInfo
	u, err := c.GetUser(context.Background(), "a", WithCallTimeout(0), WithResponseInfo(&info))
	if err != nil || u.UserID != "a" {
		t.Fatalf("GetUser with WithCallTimeout(0) = %v, %v; want the answer past the client's 30ms timeout", u, err)
	}
	if info.Duration < 150*time.Millisecond {
		t.Errorf("the call took %s, less than the server's 150ms", info.Duration)
	}
}

// TestResponseInfoKeepsTheLastAnswerAfterATimeout: a call whose 503 is
// retried and whose retry times out still reports the 503, the last status
// the server sent, with every attempt counted; its error names it as the
// last attempt.
func TestResponseInfoKeepsTheLastAnswerAfterATimeout(t *testing.T) {
	c, mux, _ := setup(t, WithRetryPolicy(RetryPolicy{MaxRetries: 1, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	var n int
	var mu sync.Mutex
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			w.Header().Set("X-Request-Id", "r-503")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		<-r.Context().Done() // the retry gets no answer before the call's timeout
	})
	var info ResponseInfo
	_, err := c.GetUser(context.Background(), "a", WithCallTimeout(300*time.Millisecond), WithResponseInfo(&info))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if info.StatusCode != http.StatusServiceUnavailable || info.RequestID != "r-503" || info.Attempts != 2 {
		t.Errorf("ResponseInfo = %+v, want the 503 (request id r-503) after 2 attempts", info)
	}
	var re *RequestError
	var last *APIError
	if !errors.As(err, &re) || !errors.As(re.Last, &last) || last.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("err = %#v, want a RequestError whose Last is the 503", err)
	}
}

// TestWithCallTimeoutReplacesClientTimeout: a per-call timeout longer than
// the client's lets a call the client's would end succeed (the CallOption
// wins), and one shorter than a later context deadline still bounds the
// call.
func TestWithCallTimeoutReplacesClientTimeout(t *testing.T) {
	c, mux, _ := setup(t, WithTimeout(30*time.Millisecond))
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(150 * time.Millisecond):
			writeJSON(w, `{"user":{"user_id":"a"}}`)
		case <-r.Context().Done():
		}
	})
	if _, err := c.GetUser(context.Background(), "a", WithCallTimeout(10*time.Second)); err != nil {
		t.Fatalf("err = %v, want the call's own 10s bound to replace the client's 30ms", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	_, err := c.GetUser(ctx, "a", WithCallTimeout(30*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the call's 30ms bound to beat the context's later deadline", err)
	}
}

// TestWithCallTimeoutZeroMeansNoBound: WithCallTimeout(0) removes the
// client's timeout for the call instead of falling back to it.
func TestWithCallTimeoutZeroMeansNoBound(t *testing.T) {
	c, mux, _ := setup(t, WithTimeout(30*time.Millisecond))
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(150 * time.Millisecond):
			writeJSON(w, `{"user":{"user_id":"a"}}`)
		case <-r.Context().Done():
		}
	})
	if _, err := c.GetUser(context.Background(), "a", WithCallTimeout(0)); err != nil {
		t.Fatalf("err = %v, want no bound beyond the context's with WithCallTimeout(0)", err)
	}
}
