//go:build !anyspec

package pagecallredis

import (
	"context"
	"errors"
	"math"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/pplink/pagecall-go"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// countHook counts the round trips a go-redis client makes: one per
// command, one per pipeline.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// newMini starts a miniredis and returns a go-redis client on it that
// honours contexts' deadlines, closed at the end of the test.
func newMini(t *testing.T) (*miniredis.Miniredis, *redis.Client) {
	t.Helper()
	m := miniredis.RunT(t)
	return m, newRDB(t, m.Addr())
}

func newRDB(t testing.TB, addr string) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func sharedOf(rdb redis.UniversalClient, ns string, opts ...Option) *shared {
	// A loaded machine running -race compiles miniredis's Lua slowly.
	return newShared(rdb, newConfig(append([]Option{WithTimeout(time.Second)}, opts...)), ns)
}

// eventually polls cond for up to a second.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within a second", what)
}

func TestRateIsSharedByNamespace(t *testing.T) {
	_, rdb := newMini(t)
	a := sharedOf(rdb, "fleet", WithRateLimit(1, 1))
	b := sharedOf(rdb, "fleet", WithRateLimit(1, 1))
	other := sharedOf(rdb, "other", WithRateLimit(1, 1))
	if err := a.Wait(context.Background()); err != nil {
		t.Fatalf("first attempt of the fleet: %v", err)
	}
	if err := other.Wait(context.Background()); err != nil {
		t.Fatalf("another namespace's first attempt: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := b.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b.Wait after a took the fleet's one token a second = %v, want the deadline", err)
	}
}

func TestWaitWithoutRateCostsNothing(t *testing.T) {
	_, rdb := newMini(t)
	h := &countHook{}
	rdb.AddHook(h)
	s := sharedOf(rdb, "fleet")
	eventually(t, "the subscription's first read", func() bool { return h.n.Load() > 0 })
	before := h.n.Load()
	for range 100 {
		if err := s.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.n.Load() - before; n != 0 {
		t.Fatalf("100 Waits without a fleet rate made %d round trips, want 0", n)
	}
}

func TestFractionalRatesAreKept(t *testing.T) {
	_, rdb := newMini(t)
	for _, tc := range []struct {
		perSecond float64
		want      string // µs between admissions
	}{{50, "20000.000"}, {0.5, "2000000.000"}, {2.5, "400000.000"}, {3, "333333.333"}} {
		if got := sharedOf(rdb, "f", WithRateLimit(tc.perSecond, 1)).intervalMicros; got != tc.want {
			t.Errorf("at %v/s: one admission every %s µs, want %s", tc.perSecond, got, tc.want)
		}
	}
}

func TestInvalidFleetRateFailsNewClient(t *testing.T) {
	_, rdb := newMini(t)
	for _, tc := range []struct {
		perSecond float64
		burst     int
	}{{0, 1}, {-1, 1}, {math.NaN(), 1}, {10, 0}} {
		_, err := pagecall.NewClient(pagecall.WithAPIKey("k"), New(rdb, WithRateLimit(tc.perSecond, tc.burst)))
		if !errors.Is(err, pagecall.ErrInvalidRateLimit) {
			t.Errorf("WithRateLimit(%v, %d): NewClient error = %v, want ErrInvalidRateLimit", tc.perSecond, tc.burst, err)
		}
	}
}

func TestPauseReachesEveryClient(t *testing.T) {
	_, rdb := newMini(t)
	a := sharedOf(rdb, "fleet")
	b := sharedOf(rdb, "fleet")
	other := sharedOf(rdb, "other")
	time.Sleep(50 * time.Millisecond) // b subscribed
	until := time.Now().Add(2 * time.Second)
	if err := a.Pause(context.Background(), until, 429); err != nil {
		t.Fatal(err)
	}
	near := func(got time.Time) bool { return got.Sub(until).Abs() < 200*time.Millisecond }
	eventually(t, "b learns a's pause", func() bool { u, st := b.PausedUntil(); return near(u) && st == 429 })
	late := sharedOf(rdb, "fleet") // started after the pause: reads the key
	eventually(t, "a client started later learns it", func() bool { u, st := late.PausedUntil(); return near(u) && st == 429 })
	if u, _ := other.PausedUntil(); !u.IsZero() {
		t.Fatalf("another namespace learned the pause: %v", u)
	}
}

func TestPauseNeverShortens(t *testing.T) {
	_, rdb := newMini(t)
	a := sharedOf(rdb, "fleet")
	b := sharedOf(rdb, "fleet")
	time.Sleep(50 * time.Millisecond)
	long := time.Now().Add(3 * time.Second)
	if err := a.Pause(context.Background(), long, 503); err != nil {
		t.Fatal(err)
	}
	if err := a.Pause(context.Background(), time.Now().Add(time.Second), 429); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if u, st := b.PausedUntil(); u.Sub(long).Abs() > 200*time.Millisecond || st != 503 {
		t.Fatalf("b's pause = %v (%d), want the longer one %v (503)", u, st, long)
	}
}

func TestBudgetIsShared(t *testing.T) {
	_, rdb := newMini(t)
	a := sharedOf(rdb, "fleet", WithBudgetCapacity(10))
	b := sharedOf(rdb, "fleet", WithBudgetCapacity(10))
	for i, tc := range []struct {
		s    *shared
		want bool
	}{{a, true}, {b, true}, {a, false}, {b, false}} {
		ok, err := tc.s.Spend(context.Background(), 5)
		if err != nil || ok != tc.want {
			t.Fatalf("spend %d of 5 tokens from a shared budget of 10 = %v, %v; want %v", i+1, ok, err, tc.want)
		}
	}
	a.Refund(5)
	eventually(t, "b spends a's refund", func() bool { ok, _ := b.Spend(context.Background(), 5); return ok })
}

func TestRefundIsCappedAtCapacity(t *testing.T) {
	m, rdb := newMini(t)
	a := sharedOf(rdb, "fleet", WithBudgetCapacity(10))
	if ok, _ := a.Spend(context.Background(), 5); !ok {
		t.Fatal("spend refused")
	}
	a.Refund(100)
	eventually(t, "the refund fills the budget", func() bool { return !m.Exists("fleet:budget") })
	for i, want := range []bool{true, true, false} {
		if ok, _ := a.Spend(context.Background(), 5); ok != want {
			t.Fatalf("spend %d after a refund of 100 into a budget of 10 = %v, want %v", i+1, ok, want)
		}
	}
}

func TestRewardToFullBudgetCostsNothing(t *testing.T) {
	_, rdb := newMini(t)
	h := &countHook{}
	rdb.AddHook(h)
	s := sharedOf(rdb, "fleet")
	eventually(t, "the client learns the budget is full", s.budgetFull.Load)
	before := h.n.Load()
	for range 100 {
		s.Refund(1)
	}
	time.Sleep(3 * refundDelay)
	if n := h.n.Load() - before; n != 0 {
		t.Fatalf("100 rewards into a full budget made %d round trips, want 0", n)
	}
}

func TestSpendFromFullBudgetTellsTheFleet(t *testing.T) {
	_, rdb := newMini(t)
	a := sharedOf(rdb, "fleet")
	b := sharedOf(rdb, "fleet")
	eventually(t, "b learns the budget is full", b.budgetFull.Load)
	if ok, err := a.Spend(context.Background(), 5); !ok || err != nil {
		t.Fatalf("spend = %v, %v", ok, err)
	}
	eventually(t, "b learns the budget is not full", func() bool { return !b.budgetFull.Load() })
	b.Refund(5) // b's refund now reaches Redis
	eventually(t, "b's refund fills it again", b.budgetFull.Load)
}

func TestRedisDownFallsBackThenShares(t *testing.T) {
	m, rdb := newMini(t)
	s := sharedOf(rdb, "fleet", WithRateLimit(1000, 1), WithCooldown(200*time.Millisecond))
	if err := s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Close()
	start := time.Now()
	err := s.Wait(context.Background())
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Wait with Redis down = %v, want ErrUnavailable", err)
	}
	if ok, err := s.Spend(context.Background(), 5); !errors.Is(err, ErrUnavailable) || ok {
		t.Fatalf("Spend with Redis down = %v, %v, want ErrUnavailable", ok, err)
	}
	if err := s.Pause(context.Background(), time.Now().Add(time.Second), 429); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Pause with Redis down = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("three operations with Redis down took %v: not bounded", d)
	}
	if u, _ := s.PausedUntil(); u.IsZero() {
		t.Fatal("a pause asked while Redis is down does not hold this client")
	}
	// In the cooldown, no round trip is tried.
	h := &countHook{}
	rdb.AddHook(h)
	_ = s.Wait(context.Background())
	if n := h.n.Load(); n != 0 {
		t.Fatalf("Wait within the cooldown tried Redis %d times", n)
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "sharing resumes after the cooldown", func() bool { return s.Wait(context.Background()) == nil })
}

func TestSlowRedisIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true, MaxRetries: -1, Protocol: 2})
	defer rdb.Close()
	s := sharedOf(rdb, "fleet", WithRateLimit(10, 1), WithTimeout(50*time.Millisecond))
	start := time.Now()
	if err := s.Wait(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Wait on a Redis that never answers = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("Wait on a Redis that never answers took %v, want about the 50 ms timeout", d)
	}
}

func TestWaitFallsBackToLocalRate(t *testing.T) {
	_, rdb := newMini(t)
	rdb.Close() // every operation fails
	s := sharedOf(rdb, "fleet", WithRateLimit(10, 1), WithCooldown(time.Hour))
	start := time.Now()
	for range 4 {
		if err := s.Wait(context.Background()); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Wait = %v", err)
		}
	}
	// burst 1, then 3 at 10/s: 300 ms.
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("4 attempts with Redis down at a fleet rate of 10/s took %v: no local limit", d)
	}
}

func TestSubscriptionEndsWhenRedisClientCloses(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	s := sharedOf(rdb, "fleet")
	eventually(t, "subscribed", s.budgetFull.Load)
	rdb.Close()
	m.Close() // its goroutines are not the subscription's
}

func TestHighRateLeasesAdmissions(t *testing.T) {
	_, rdb := newMini(t)
	h := &countHook{}
	rdb.AddHook(h)
	s := sharedOf(rdb, "fleet", WithRateLimit(10000, 100)) // 10 ms is 100 admissions
	if s.lease != 100 {
		t.Fatalf("lease = %d, want 100", s.lease)
	}
	eventually(t, "subscribed", s.budgetFull.Load)
	_ = s.Wait(context.Background()) // loads the script
	time.Sleep(2 * leaseWindow)
	before := h.n.Load()
	for range 50 {
		if err := s.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.n.Load() - before; n != 1 {
		t.Fatalf("50 Waits at 10,000/s made %d round trips, want 1", n)
	}
	time.Sleep(2 * leaseWindow) // what is left of the lease is dropped
	before = h.n.Load()
	if err := s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.n.Load() - before; n != 1 {
		t.Fatalf("a Wait after the lease window made %d round trips, want 1", n)
	}
	if low := sharedOf(rdb, "low", WithRateLimit(50, 5)); low.lease != 1 {
		t.Fatalf("at 50/s the lease is %d admissions, want 1: the rate stays exact", low.lease)
	}
}

func TestLeasesKeepTheFleetRate(t *testing.T) {
	_, rdb := newMini(t)
	a := sharedOf(rdb, "fleet", WithRateLimit(2000, 20))
	b := sharedOf(rdb, "fleet", WithRateLimit(2000, 20))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var n atomic.Int64
	done := make(chan struct{})
	for _, s := range []*shared{a, b, a, b} {
		go func() {
			defer func() { done <- struct{}{} }()
			for s.Wait(ctx) == nil {
				n.Add(1)
			}
		}()
	}
	for range 4 {
		<-done
	}
	// 0.3 s at 2000/s, the burst, and at most one lease per client unused
	if max := int64(0.3*2000 + 20 + 2*20); n.Load() > max {
		t.Fatalf("%d admissions in 0.3 s at a fleet rate of 2000/s, want at most %d", n.Load(), max)
	}
}

func TestSpendRefusedWhenFewerThanCostLeft(t *testing.T) {
	_, rdb := newMini(t)
	s := sharedOf(rdb, "fleet", WithBudgetCapacity(10))
	if ok, err := s.Spend(context.Background(), 7); !ok || err != nil {
		t.Fatalf("spend 7 of 10 = %v, %v", ok, err)
	}
	if ok, err := s.Spend(context.Background(), 5); ok || err != nil {
		t.Fatalf("spend 5 with 3 left = %v, %v; want refused", ok, err)
	}
	if ok, _ := s.Spend(context.Background(), 3); !ok {
		t.Fatal("spend 3 with 3 left refused: a refused spend took tokens")
	}
}

func TestWaitPastDeadlineTakesNoAdmission(t *testing.T) {
	_, rdb := newMini(t)
	a := sharedOf(rdb, "fleet", WithRateLimit(1, 1))
	b := sharedOf(rdb, "fleet", WithRateLimit(1, 1))
	if err := a.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := b.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait whose turn is after its deadline = %v", err)
	}
	// The next admission (in about a second) is still free: the refused
	// Wait above did not reserve it.
	long, cancel2 := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel2()
	if err := a.Wait(long); err != nil {
		t.Fatalf("the fleet's next admission was taken by a Wait that gave up: %v", err)
	}
}

func TestRateStateOutlivesItsInterval(t *testing.T) {
	m, rdb := newMini(t)
	s := sharedOf(rdb, "fleet", WithRateLimit(1, 1))
	if err := s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The key must hold at least until the next admission is due (one
	// second), or the fleet forgets its rate and admits a burst again.
	if ttl := m.TTL("fleet:rate"); ttl < time.Second {
		t.Fatalf("the rate's state expires in %v, before the next admission (1 s) is due", ttl)
	}
}

func TestPauseNeverShortensLocally(t *testing.T) {
	_, rdb := newMini(t)
	a := sharedOf(rdb, "fleet") // no pause is published: only a's own view
	long := time.Now().Add(3 * time.Second)
	a.learnPause(long, 503)
	a.learnPause(time.Now().Add(time.Second), 429) // a shorter pause learned later
	if u, st := a.PausedUntil(); !u.Equal(long) || st != 503 {
		t.Fatalf("a's own pause = %v (%d) after a shorter one, want %v (503)", u, st, long)
	}
}

func TestSpentBudgetRefillsWhenIdle(t *testing.T) {
	m, rdb := newMini(t)
	s := sharedOf(rdb, "fleet", WithBudgetCapacity(10))
	if ok, _ := s.Spend(context.Background(), 10); !ok {
		t.Fatal("spend refused")
	}
	m.FastForward(budgetIdleExpiry + time.Second)
	if ok, _ := s.Spend(context.Background(), 10); !ok {
		t.Fatal("a budget left idle for budgetIdleExpiry is not full again")
	}
}

func TestRefundsSurviveAFailedFlush(t *testing.T) {
	m, rdb := newMini(t)
	s := sharedOf(rdb, "fleet", WithBudgetCapacity(10), WithCooldown(0))
	if ok, _ := s.Spend(context.Background(), 10); !ok {
		t.Fatal("spend refused")
	}
	m.SetError("ERR down") // every command fails; the data stays
	s.Refund(4)
	time.Sleep(200 * time.Millisecond) // its flush failed
	m.SetError("")
	s.Refund(6)
	eventually(t, "both refunds reach the budget", func() bool { return !m.Exists("fleet:budget") })
}

func TestRefundsAfterAPartialRefundStillArrive(t *testing.T) {
	m, rdb := newMini(t)
	s := sharedOf(rdb, "fleet", WithBudgetCapacity(10))
	if ok, _ := s.Spend(context.Background(), 10); !ok {
		t.Fatal("spend refused")
	}
	s.Refund(2)
	eventually(t, "the first refund arrives", func() bool { v, _ := m.Get("fleet:budget"); return v == "2" })
	s.Refund(3)
	eventually(t, "the second refund arrives", func() bool { v, _ := m.Get("fleet:budget"); return v == "5" })
}

func TestLateClientRefundsIntoASpentBudget(t *testing.T) {
	m, rdb := newMini(t)
	a := sharedOf(rdb, "fleet", WithBudgetCapacity(10))
	if ok, _ := a.Spend(context.Background(), 5); !ok {
		t.Fatal("spend refused")
	}
	late := sharedOf(rdb, "fleet", WithBudgetCapacity(10))
	time.Sleep(100 * time.Millisecond) // late has read the budget
	late.Refund(5)
	eventually(t, "the late client's refund fills the budget", func() bool { return !m.Exists("fleet:budget") })
}

func TestRefundRightAfterSpendArrives(t *testing.T) {
	m, rdb := newMini(t)
	s := sharedOf(rdb, "fleet", WithBudgetCapacity(10))
	eventually(t, "subscribed", s.budgetFull.Load)
	if ok, _ := s.Spend(context.Background(), 5); !ok {
		t.Fatal("spend refused")
	}
	s.Refund(5) // before the "spent" event comes back
	eventually(t, "the refund fills the budget", func() bool { return !m.Exists("fleet:budget") })
}
