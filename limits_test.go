package pagecall

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLimits is a SharedLimits whose answers the test sets and whose calls
// it records.
type fakeLimits struct {
	mu          sync.Mutex
	err         error // what Wait, Pause and Spend return; nil when reachable
	refuse      bool  // Spend says no
	until       time.Time
	status      int
	waits       int
	spends      []int64
	refunds     []int64
	pauses      []int // the statuses Pause was told
	pausedUntil []time.Time
}

func (f *fakeLimits) Wait(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits++
	return f.err
}

func (f *fakeLimits) PausedUntil() (time.Time, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.until, f.status
}

func (f *fakeLimits) Pause(_ context.Context, until time.Time, status int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pauses = append(f.pauses, status)
	f.pausedUntil = append(f.pausedUntil, until)
	return f.err
}

func (f *fakeLimits) Spend(_ context.Context, cost int64) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spends = append(f.spends, cost)
	if f.err != nil {
		return false, f.err
	}
	return !f.refuse, nil
}

func (f *fakeLimits) Refund(n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refunds = append(f.refunds, n)
}

func (f *fakeLimits) set(fn func(f *fakeLimits)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// sharedClient returns a client for base sharing f, and the scope it was
// given.
func sharedClient(t *testing.T, base string, f *fakeLimits, opts ...Option) (*Client, *string) {
	t.Helper()
	var scope string
	c := relClient(t, base, append([]Option{WithSharedLimits(func(s string) SharedLimits { scope = s; return f })}, opts...)...)
	return c, &scope
}

// TestSharedPauseHoldsAttempts: a fleet-wide pause holds a call's attempt
// until it ends, and a call whose deadline ends first fails at once with
// the status that asked for the pause.
func TestSharedPauseHoldsAttempts(t *testing.T) {
	base, hits := relServer(t, relFailThenOK(0, 0, nil, ""))
	f := &fakeLimits{until: time.Now().Add(200 * time.Millisecond), status: http.StatusTooManyRequests}
	c, _ := sharedClient(t, base, f)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.DeleteUser(ctx, "u1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || hits.Load() != 0 {
		t.Fatalf("call with a deadline before the pause's end: %v after %d requests; want the 429 and none sent", err, hits.Load())
	}

	start := time.Now()
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Errorf("the call went after %v, want it held by the fleet's pause (about 200ms)", waited)
	}
}

// TestSharedWaitIsCalledPerAttempt: the fleet's rate admits every attempt,
// retries included.
func TestSharedWaitIsCalledPerAttempt(t *testing.T) {
	base, _ := relServer(t, relFailThenOK(2, http.StatusServiceUnavailable, nil, ""))
	f := &fakeLimits{}
	c, _ := sharedClient(t, base, f)
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	if f.waits != 3 {
		t.Errorf("Wait called %d times, want 3 (one per attempt)", f.waits)
	}
}

// TestSharedSpendRefusalStopsRetry: when the fleet's budget refuses the
// cost of a retry, the call ends after its first attempt, even though the
// client's own budget is full.
func TestSharedSpendRefusalStopsRetry(t *testing.T) {
	base, hits := relServer(t, relFailThenOK(5, http.StatusServiceUnavailable, nil, ""))
	f := &fakeLimits{refuse: true}
	var refused bool
	c, _ := sharedClient(t, base, f, WithHooks(Hooks{AttemptEnd: func(_ context.Context, a AttemptEnd) { refused = a.BudgetRefused }}))
	_, err := c.DeleteUser(context.Background(), "u1")
	if !errors.As(err, new(*APIError)) || hits.Load() != 1 {
		t.Fatalf("%v after %d attempts; want the 503 after 1", err, hits.Load())
	}
	if !refused || len(f.spends) != 1 || f.spends[0] != budgetRetryCost {
		t.Errorf("BudgetRefused %v, Spend calls %v; want true and one of %d", refused, f.spends, budgetRetryCost)
	}
}

// TestSharedRefundAmounts: a call answered at once refunds the reward; one
// answered after failures refunds what its failures took from the fleet.
func TestSharedRefundAmounts(t *testing.T) {
	base, _ := relServer(t, relFailThenOK(2, http.StatusServiceUnavailable, nil, ""))
	f := &fakeLimits{}
	c, _ := sharedClient(t, base, f)
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil { // 2 failures, then the user
		t.Fatal(err)
	}
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil { // at once
		t.Fatal(err)
	}
	want := []int64{2 * budgetRetryCost, budgetReward}
	if len(f.refunds) != 2 || f.refunds[0] != want[0] || f.refunds[1] != want[1] {
		t.Errorf("Refund calls %v, want %v", f.refunds, want)
	}
}

// TestSharedPauseIsToldOfRetryAfter: an answer whose Retry-After pauses
// the client tells the fleet, with its status and end.
func TestSharedPauseIsToldOfRetryAfter(t *testing.T) {
	base, _ := relServer(t, relFailThenOK(1, http.StatusTooManyRequests, map[string]string{"Retry-After": "1"}, ""))
	f := &fakeLimits{}
	c, _ := sharedClient(t, base, f, WithMaxRetries(0))
	before := time.Now()
	_, _ = c.DeleteUser(context.Background(), "u1")
	if len(f.pauses) != 1 || f.pauses[0] != http.StatusTooManyRequests {
		t.Fatalf("Pause calls %v, want one for 429", f.pauses)
	}
	if d := f.pausedUntil[0].Sub(before); d < 900*time.Millisecond || d > 2*time.Second {
		t.Errorf("Pause until now+%v, want about 1s", d)
	}
}

// TestUnreachableSharedLimitsFallBack: when the shared state cannot be
// reached, calls go on with the client's own limits (its budget decides a
// retry), one warning is logged per outage and the hook hears of it; the
// first success after logs and tells the hook again.
func TestUnreachableSharedLimitsFallBack(t *testing.T) {
	base, _ := relServer(t, relFailThenOK(1, http.StatusServiceUnavailable, nil, ""))
	down := errors.New("redis: connection refused")
	f := &fakeLimits{err: down}
	var logs bytes.Buffer
	var mu sync.Mutex
	var events []SharedLimitsEvent
	c, _ := sharedClient(t, base, f,
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))),
		WithHooks(Hooks{SharedLimits: func(_ context.Context, e SharedLimitsEvent) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}}))
	for i := range 3 {
		if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
			t.Fatalf("call %d failed while the shared state was down: %v", i+1, err)
		}
	}
	if n := strings.Count(logs.String(), "shared limits unreachable"); n != 1 {
		t.Errorf("%d warnings over one outage, want 1:\n%s", n, logs.String())
	}
	if len(events) != 1 || events[0].Reachable || !errors.Is(events[0].Err, down) {
		t.Fatalf("events %+v, want one unreachable with the error", events)
	}

	f.set(func(f *fakeLimits) { f.err = nil })
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "shared limits reachable again") {
		t.Errorf("no recovery line:\n%s", logs.String())
	}
	if len(events) != 2 || !events[1].Reachable || events[1].Err != nil {
		t.Errorf("events %+v, want a second, reachable one", events)
	}

	f.set(func(f *fakeLimits) { f.err = down })
	_, _ = c.DeleteUser(context.Background(), "u1")
	if n := strings.Count(logs.String(), "shared limits unreachable"); n != 2 {
		t.Errorf("%d warnings over two outages, want 2", n)
	}
}

// TestSharedScopeIsStableAndHidesTheKey: the scope is 32 lowercase hex
// characters, the same for the same base URL and key, different for
// another key, and never holds the key.
func TestSharedScopeIsStableAndHidesTheKey(t *testing.T) {
	base, _ := relServer(t, relFailThenOK(0, 0, nil, ""))
	_, s1 := sharedClient(t, base, &fakeLimits{})
	_, s2 := sharedClient(t, base, &fakeLimits{})
	_, s3 := sharedClient(t, base, &fakeLimits{}, WithAPIKey("another-key-entirely"))
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(*s1) {
		t.Errorf("scope %q, want 32 lowercase hex characters", *s1)
	}
	if *s1 != *s2 || *s1 == *s3 {
		t.Errorf("scopes %q, %q, %q: want the first two equal, the third apart", *s1, *s2, *s3)
	}
	if strings.Contains(*s1, relKey) || strings.Contains(*s3, "another-key-entirely") {
		t.Error("the scope holds the key")
	}
}

// TestNoSharedLimitsByDefault: a client without WithSharedLimits has none
// to consult.
func TestNoSharedLimitsByDefault(t *testing.T) {
	c := relClient(t, "http://127.0.0.1:1/v1")
	if c.loop.shared != nil {
		t.Error("a plain client has shared limits")
	}
}

// TestSharedSpendOnlyForRetryableFailures: an answer not worth retrying
// (a 404) takes nothing from the fleet's budget: Spend is not called, and
// the call refunds the reward of an answer.
func TestSharedSpendOnlyForRetryableFailures(t *testing.T) {
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	f := &fakeLimits{}
	c, _ := sharedClient(t, base, f)
	if _, err := c.DeleteUser(context.Background(), "u1"); !errors.As(err, new(*APIError)) {
		t.Fatalf("err = %v, want the 404", err)
	}
	if len(f.spends) != 0 {
		t.Errorf("Spend calls %v for a 404, want none", f.spends)
	}
}

// TestSharedBudgetUntouchedWhenDisabled: with DisableBudget the client
// neither spends from nor refunds to the fleet's budget, as the local one
// takes and gives back nothing.
func TestSharedBudgetUntouchedWhenDisabled(t *testing.T) {
	base, _ := relServer(t, relFailThenOK(1, http.StatusServiceUnavailable, nil, ""))
	f := &fakeLimits{}
	p := relFastPolicy
	p.DisableBudget = true
	c, _ := sharedClient(t, base, f, WithRetryPolicy(p))
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil { // a failure, then the user
		t.Fatal(err)
	}
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil { // at once
		t.Fatal(err)
	}
	if len(f.spends) != 0 || len(f.refunds) != 0 {
		t.Errorf("Spend calls %v, Refund calls %v with the budget disabled; want none", f.spends, f.refunds)
	}
}

// blockingWaitLimits is a fakeLimits whose Wait holds until ctx ends.
type blockingWaitLimits struct{ *fakeLimits }

func (b blockingWaitLimits) Wait(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestSharedWaitEndedByContextSendsNothing: a call whose context ends
// while the fleet's rate holds it fails with its context's error, without
// an attempt: an ended context is not an unreachable fleet.
func TestSharedWaitEndedByContextSendsNothing(t *testing.T) {
	base, hits := relServer(t, relFailThenOK(0, 0, nil, ""))
	f := &fakeLimits{}
	var started int
	c := relClient(t, base,
		WithSharedLimits(func(string) SharedLimits { return blockingWaitLimits{f} }),
		WithHooks(Hooks{AttemptStart: func(context.Context, AttemptStart) { started++ }}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	var info ResponseInfo
	_, err := c.DeleteUser(ctx, "u1", WithResponseInfo(&info))
	if !errors.Is(err, context.DeadlineExceeded) || hits.Load() != 0 {
		t.Fatalf("err = %v after %d requests, want the deadline and none sent", err, hits.Load())
	}
	if started != 0 || info.Attempts != 0 {
		t.Errorf("AttemptStart ran %d times, ResponseInfo.Attempts = %d; want 0 and 0", started, info.Attempts)
	}
}
