package pagecall

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// This file pins behaviours that an independent audit (issue 19) found
// no test held: each test fails on a one-line slip that changes what a
// user sees. docs/RELIABILITY.md lists the slips.

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

// TestTruncateNeverSplitsARune: a cut at any byte offset, the multibyte
// run starting at an odd one included, leaves valid UTF-8.
func TestTruncateNeverSplitsARune(t *testing.T) {
	for _, r := range []string{"é", "€", "😀"} {
		for lead := range 4 {
			s := strings.Repeat("a", lead) + strings.Repeat(r, 300)
			for n := 1; n < 40; n++ {
				got := truncate(s, n)
				if !utf8.ValidString(got) {
					t.Fatalf("truncate(%d×a + %q…, %d) = %q: invalid UTF-8", lead, r, n, got)
				}
				if len(strings.TrimSuffix(got, "…")) > n {
					t.Fatalf("truncate(…, %d) kept %d bytes", n, len(got))
				}
			}
		}
	}
	msg := errorMessage("text/plain", []byte("x"+strings.Repeat("é", 600)))
	if !utf8.ValidString(msg) {
		t.Errorf("ErrorMessage of a long message at an odd offset = %q: invalid UTF-8", msg)
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
