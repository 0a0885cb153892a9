package pagecall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// relArrivals records when each request reached a server.
type relArrivals struct {
	mu sync.Mutex
	at []time.Time
}

func (a *relArrivals) add() time.Time {
	now := time.Now()
	a.mu.Lock()
	a.at = append(a.at, now)
	a.mu.Unlock()
	return now
}

func (a *relArrivals) get() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.at...)
}

// relRateLimited answers 429 with Retry-After: retryAfter to every request
// for window after the first, and the user afterwards. It returns the base
// URL, the arrivals, and a function that gives the window's end.
func relRateLimited(t *testing.T, window time.Duration, retryAfter string) (string, *relArrivals, func() time.Time) {
	var (
		arrivals relArrivals
		once     sync.Once
		end      atomic.Int64
	)
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		now := arrivals.add()
		once.Do(func() { end.Store(now.Add(window).UnixNano()) })
		if now.UnixNano() < end.Load() {
			w.Header().Set("Retry-After", retryAfter)
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		relWriteUser(w, "u1")
	})
	return base, &arrivals, func() time.Time { return time.Unix(0, end.Load()) }
}

// TestPauseHoldsEveryCall: the server answers 429 with Retry-After: 1 for
// one second, while 100 calls start over half a second. The first answer
// pauses the whole client, so the calls that start during the wait hold
// their attempts until it is over: none fails, and only the few requests
// already on their way reach the server before the second is up.
func TestPauseHoldsEveryCall(t *testing.T) {
	const calls = 100
	base, arrivals, windowEnd := relRateLimited(t, time.Second, "1")
	rec := &relRecorder{}
	c := relClient(t, base, WithLogger(slog.New(rec)))

	var (
		wg       sync.WaitGroup
		failed   atomic.Int64
		sawPause atomic.Bool
	)
	for i := range calls {
		wg.Go(func() {
			if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
				failed.Add(1)
				t.Errorf("call %d: %v", i, err)
			}
		})
		if !c.PausedUntil().IsZero() {
			sawPause.Store(true)
		}
		time.Sleep(500 * time.Millisecond / calls)
	}
	wg.Wait()

	early := 0
	for _, at := range arrivals.get() {
		if at.Before(windowEnd()) {
			early++
		}
	}
	t.Logf("429 Retry-After 1 for 1s, %d calls over 0.5s: %d failed, %d requests in all, %d before the wait was over",
		calls, failed.Load(), len(arrivals.get()), early)
	if failed.Load() != 0 {
		t.Errorf("%d of %d calls failed, want 0", failed.Load(), calls)
	}
	if early > 10 {
		t.Errorf("%d requests reached the server before the announced wait was over, want <= 10", early)
	}
	if !sawPause.Load() {
		t.Error("PausedUntil() was zero throughout the wait")
	}
	if u := c.PausedUntil(); !u.IsZero() {
		t.Errorf("PausedUntil() = %v after the wait, want zero", u)
	}
	if rec.count("pausing every request") == 0 || rec.count("waiting for the client-wide pause") == 0 {
		t.Error("the pause and the waits for it were not logged at debug level")
	}
}

// TestPauseDeadline: a call whose deadline ends before the pause does
// fails at once with the 429's *APIError, and sends nothing.
func TestPauseDeadline(t *testing.T) {
	base, arrivals, _ := relRateLimited(t, time.Minute, "5")
	c := relClient(t, base, WithMaxRetries(0))
	if _, err := c.DeleteUser(context.Background(), "u1"); err == nil {
		t.Fatal("the first call did not get the 429")
	}
	sent := len(arrivals.get())

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.DeleteUser(ctx, "u2")
	elapsed := time.Since(start)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("err = %v, want the 429 *APIError", err)
	}
	if apiErr.Path != "/v1/users/u2" || apiErr.Attempts != 0 || apiErr.RetryAfter <= time.Second {
		t.Errorf("APIError = %+v, want this call's path, 0 attempts and the pause left (> 1s) as RetryAfter", apiErr)
	}
	if errors.Is(err, context.DeadlineExceeded) || elapsed > 900*time.Millisecond {
		t.Errorf("the call took %v (err %v): it waited instead of failing at once", elapsed, err)
	}
	if n := len(arrivals.get()); n != sent {
		t.Errorf("%d requests sent during the pause, want none", n-sent)
	}
}

// TestPauseCappedAndCancelled: a Retry-After past MaxRetryAfter pauses the
// client for MaxRetryAfter only, and cancelling a call ends its wait.
func TestPauseCappedAndCancelled(t *testing.T) {
	base, _, _ := relRateLimited(t, time.Minute, "3600")
	policy := relFastPolicy
	policy.MaxRetryAfter = 2 * time.Second
	c := relClient(t, base, WithRetryPolicy(policy), WithMaxRetries(0), WithTimeout(0))
	start := time.Now()
	if _, err := c.DeleteUser(context.Background(), "u1"); err == nil {
		t.Fatal("the first call did not get the 429")
	}
	until := c.PausedUntil()
	if until.IsZero() || until.Sub(start) > policy.MaxRetryAfter+time.Second {
		t.Fatalf("PausedUntil() = %v, %v after the call started: want a pause capped at MaxRetryAfter (%v)",
			until, until.Sub(start), policy.MaxRetryAfter)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := c.DeleteUser(ctx, "u1")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if time.Now().After(until) {
		t.Error("the cancelled call waited the whole pause")
	}
}

// TestRateLimit: WithRateLimit spaces every attempt, retries included.
// Decided on the server's arrivals against the earliest time the limit
// allows each: a slow machine cannot fail it, only sending too fast can.
func TestRateLimit(t *testing.T) {
	const (
		perSecond = 100
		burst     = 2
		calls     = 40
		callers   = 8
	)
	var (
		arrivals relArrivals
		seen     sync.Map
	)
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		arrivals.add()
		// The first attempt of every other call fails and is retried:
		// the retries count too.
		id := path.Base(r.URL.Path)
		if _, again := seen.LoadOrStore(id, true); !again && id[len(id)-1]%2 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		relWriteUser(w, id)
	})
	c := relClient(t, base, WithRateLimit(perSecond, burst))
	start := time.Now()
	if failed := relConcurrently(callers, calls, func(i int) error {
		_, err := c.DeleteUser(context.Background(), fmt.Sprintf("u%d", i))
		return err
	}); failed != 0 {
		t.Fatalf("%d calls failed", failed)
	}
	at := arrivals.get()
	if len(at) <= calls {
		t.Fatalf("%d requests for %d calls: no retry, so retries were not tested", len(at), calls)
	}
	// The limiter grants the k-th request (1-based) no earlier than
	// start + (k-burst)/rate, and a request arrives after its grant, so the
	// k-th arrival can be no earlier either: delays on a busy machine only
	// push arrivals later, never earlier. One request of slack: a caller
	// that read the clock, then lost the CPU before taking its turn, is
	// granted by x/time/rate against that earlier time.
	slices.SortFunc(at, time.Time.Compare)
	for k := burst + 2; k <= len(at); k++ {
		earliest := start.Add(time.Duration(k-burst-1) * time.Second / perSecond)
		if early := earliest.Sub(at[k-1]); early > 0 {
			t.Fatalf("request %d of %d arrived %v before the limit allows (%d/s, burst %d)", k, len(at), early, perSecond, burst)
		}
	}
	t.Logf("%d requests (%d calls, the rest retries) at %d/s, burst %d: the last after %v (at least %v)",
		len(at), calls, perSecond, burst, at[len(at)-1].Sub(start).Round(time.Millisecond), time.Duration(len(at)-burst)*time.Second/perSecond)
}

// TestRateLimitDeadlineAndCancel: the per-call timeout counts the wait for
// the limiter, and cancelling the context ends it.
func TestRateLimitDeadlineAndCancel(t *testing.T) {
	var hits atomic.Int64
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		relWriteUser(w, "u1")
	})
	c := relClient(t, base, WithRateLimit(0.2, 1), WithTimeout(2*time.Second)) // one request every 5 s
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatalf("first call: %v", err)
	}
	start := time.Now()
	_, err := c.DeleteUser(context.Background(), "u1")
	var reqErr *RequestError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &reqErr) || reqErr.Attempts != 0 {
		t.Errorf("err = %v, want a *RequestError with DeadlineExceeded and 0 attempts", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("the call took %v: it waited for a turn it could not get within its timeout", d)
	}

	c = relClient(t, base, WithRateLimit(0.2, 1), WithTimeout(0))
	_, _ = c.DeleteUser(context.Background(), "u1")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	if _, err := c.DeleteUser(ctx, "u1"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the cancelled call took %v", d)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("%d requests reached the server, want the 2 first calls only", n)
	}
}

func TestWithRateLimitOptions(t *testing.T) {
	for _, tt := range []struct {
		name      string
		perSecond float64
		burst     int
		wantErr   bool
		wantLimit bool
	}{
		{"limit", 10, 1, false, true},
		{"infinite rate: no limit", math.Inf(1), 1, false, false},
		{"zero rate", 0, 1, true, false},
		{"negative rate", -1, 1, true, false},
		{"NaN rate", math.NaN(), 1, true, false},
		{"zero burst", 10, 0, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(WithAPIKey(relKey), WithBaseURL("http://127.0.0.1:1/v1"), WithRateLimit(tt.perSecond, tt.burst))
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidRateLimit) {
					t.Errorf("err = %v, want ErrInvalidRateLimit", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.loop.limiter != nil; got != tt.wantLimit {
				t.Errorf("limiter set = %v, want %v", got, tt.wantLimit)
			}
		})
	}
	c, err := NewClient(WithAPIKey(relKey), WithBaseURL("http://127.0.0.1:1/v1"))
	if err != nil || c.loop.limiter != nil {
		t.Errorf("default client: limiter %v, err %v; want no limit", c.loop.limiter, err)
	}
}

// TestResponseInfoCountsAttempts: ResponseInfo.Attempts reports the
// attempts of a call that succeeds after retries, and 0 for one refused
// before anything was sent.
func TestResponseInfoCountsAttempts(t *testing.T) {
	base, _ := relServer(t, relFailThenOK(2, http.StatusServiceUnavailable, nil, ""))
	c := relClient(t, base)
	var info ResponseInfo
	if _, err := c.DeleteUser(context.Background(), "u1", WithResponseInfo(&info)); err != nil || info.Attempts != 3 {
		t.Errorf("succeeding call: attempts %d, err %v; want 3, nil", info.Attempts, err)
	}
	if _, err := c.DeleteUser(context.Background(), "", WithResponseInfo(&info)); err == nil || info.Attempts != 0 {
		t.Errorf("invalid ID: attempts %d, err %v; want 0 and an error", info.Attempts, err)
	}
}

// TestPauseKeepsTheLonger: a shorter Retry-After that arrives during a
// longer pause (from a request already in flight) does not shorten it.
func TestPauseKeepsTheLonger(t *testing.T) {
	both := newRelBarrier(2)
	base, _ := relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		both.wait(r)
		if n == 1 {
			w.Header().Set("Retry-After", "30") // answered first
		} else {
			time.Sleep(100 * time.Millisecond)
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(http.StatusTooManyRequests)
	})
	c := relClient(t, base, WithMaxRetries(0))
	start := time.Now()
	relConcurrently(2, 2, func(int) error {
		_, err := c.DeleteUser(context.Background(), "u1")
		return err
	})
	if until := c.PausedUntil(); until.Sub(start) < 20*time.Second {
		t.Errorf("PausedUntil() is %v after the start, want the 30 s pause kept", until.Sub(start))
	}
}

// TestPauseHoldNothing: a Retry-After of zero or less, or a cause that is
// not an *APIError, holds no pause: the client does not report one
// (PausedUntil stays zero). (Found by gremlins: a zero wait recorded as a
// pause ending now passed every test.)
func TestPauseHoldNothing(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name  string
		wait  time.Duration
		cause error
	}{
		{"zero wait", 0, &APIError{StatusCode: 429}},
		{"negative wait", -time.Second, &APIError{StatusCode: 429}},
		{"not an APIError", time.Second, errors.New("boom")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p pause
			p.hold(context.Background(), log, tc.wait, time.Minute, tc.cause)
			if until, cause := p.state(); !until.IsZero() || cause != nil {
				t.Errorf("hold(%v, %v): pause until %v for %v, want none", tc.wait, tc.cause, until, cause)
			}
			if end := p.end.Load(); end != 0 {
				t.Errorf("hold(%v, %v): end %d, want 0", tc.wait, tc.cause, end)
			}
		})
	}
}
