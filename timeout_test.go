package pagecall

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

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
