package pagecall

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// relRecorder is a slog handler that keeps every record, for tests that
// assert on what the client logs.
type relRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *relRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *relRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *relRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *relRecorder) WithGroup(string) slog.Handler      { return h }

// count returns how many records have a message containing msg.
func (h *relRecorder) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.records {
		if strings.Contains(r.Message, msg) {
			n++
		}
	}
	return n
}

const relBudgetMsg = "retry budget exhausted"

// relSwitchServer answers 503 while down is true, the user otherwise.
func relSwitchServer(t *testing.T, down *atomic.Bool) (string, *atomic.Int64) {
	return relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		relWriteUser(w, "u1")
	})
}

// relBarrier holds the first n requests it sees until all n have arrived
// (or 10 s have passed), so that they are answered at the same moment.
type relBarrier struct {
	n       int64
	arrived atomic.Int64
	all     chan struct{}
}

func newRelBarrier(n int64) *relBarrier { return &relBarrier{n: n, all: make(chan struct{})} }

// wait reports whether the request was one of the first n, after holding it.
func (b *relBarrier) wait(r *http.Request) bool {
	k := b.arrived.Add(1)
	if k > b.n {
		return false
	}
	if k == b.n {
		close(b.all)
	}
	select {
	case <-b.all:
	case <-time.After(10 * time.Second):
	case <-r.Context().Done():
	}
	return true
}

// relConcurrently runs calls calls of f, spread over callers goroutines
// started together, and returns how many returned an error.
func relConcurrently(callers, calls int, f func(i int) error) int64 {
	var (
		wg     sync.WaitGroup
		failed atomic.Int64
		next   atomic.Int64
	)
	for range callers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < calls; i = int(next.Add(1)) - 1 {
				if f(i) != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return failed.Load()
}

// TestRetryBudgetBlip: 64 callers get a 503 at the same moment, then the
// API is fine. Every call is retried and succeeds, the retries give their
// tokens back, and a second blip right after the first is weathered too.
// (gRPC's 10-token bucket, this client's budget before, let 60 of the 64
// fail: the burst drained it.)
func TestRetryBudgetBlip(t *testing.T) {
	const callers = 64
	var blip atomic.Pointer[relBarrier]
	blip.Store(newRelBarrier(callers))
	base, hits := relServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		if blip.Load().wait(r) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		relWriteUser(w, "u1")
	})
	rec := &relRecorder{}
	c := relClient(t, base, WithLogger(slog.New(rec)))
	for round := 1; round <= 2; round++ {
		before := hits.Load()
		failed := relConcurrently(callers, callers, func(int) error {
			_, err := c.DeleteUser(context.Background(), "u1")
			return err
		})
		attempts := hits.Load() - before
		t.Logf("blip %d: %d simultaneous 503s: %d of %d calls failed, %d attempts, budget %.0f tokens after",
			round, callers, failed, callers, attempts, c.RetryBudget())
		if failed != 0 {
			t.Errorf("blip %d: %d of %d calls failed, want 0", round, failed, callers)
		}
		if attempts != 2*callers {
			t.Errorf("blip %d: %d attempts, want %d (each call retried once)", round, attempts, 2*callers)
		}
		if b := c.RetryBudget(); b != budgetCapacity {
			t.Errorf("blip %d: budget %.0f after the retries succeeded, want it refunded to %d", round, b, budgetCapacity)
		}
		blip.Store(newRelBarrier(callers))
	}
	if n := rec.count(relBudgetMsg); n != 0 {
		t.Errorf("the budget refused %d retries during the blips, want none", n)
	}
}

// relPattern decides, the same way whatever the interleaving of callers,
// which attempts of which IDs fail: a seeded hash of the ID and the
// attempt's number falls below rate.
type relPattern struct {
	seed uint64
	rate float64
}

func (p relPattern) fails(id string, attempt int) bool {
	h := fnv.New64a()
	h.Write([]byte(id))
	// splitmix64's finaliser: FNV alone leaves similar IDs correlated.
	x := h.Sum64() ^ p.seed*0x9e3779b97f4a7c15 ^ uint64(attempt)*0xbf58476d1ce4e5b9
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < p.rate
}

// TestRetryBudgetRandomFailures: 5% of attempts answer 503 at random, 32
// callers, 9,600 calls. The budget never refuses a retry, and no call
// fails. Which attempts fail is fixed by the ID and the attempt's number,
// whatever the interleaving, so the test also knows the calls that would
// draw a 503 on all three of their attempts (1 in 8,000), which no budget
// could save: this seed draws none.
func TestRetryBudgetRandomFailures(t *testing.T) {
	const (
		callers = 32
		calls   = 9600
	)
	pattern := relPattern{seed: 1, rate: 0.05}
	var (
		mu       sync.Mutex
		tries    = map[string]int{}
		failures atomic.Int64
	)
	base, hits := relServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		id := path.Base(r.URL.Path)
		mu.Lock()
		tries[id]++
		n := tries[id]
		mu.Unlock()
		if pattern.fails(id, n) {
			failures.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		relWriteUser(w, id)
	})
	rec := &relRecorder{}
	c := relClient(t, base, WithLogger(slog.New(rec))) // MaxRetries 2
	for i := range calls {
		id := fmt.Sprintf("u%d", i)
		if pattern.fails(id, 1) && pattern.fails(id, 2) && pattern.fails(id, 3) {
			t.Fatalf("the pattern fails every attempt of %s: pick another seed", id)
		}
	}

	var failedIDs sync.Map
	failed := relConcurrently(callers, calls, func(i int) error {
		id := fmt.Sprintf("u%d", i)
		_, err := c.DeleteUser(context.Background(), id)
		if err != nil {
			failedIDs.Store(id, err)
		}
		return err
	})
	t.Logf("5%% random 503s, %d callers: %d of %d calls failed, %d attempts, %d 503s, %d retries refused by the budget",
		callers, failed, calls, hits.Load(), failures.Load(), rec.count(relBudgetMsg))
	if got, want := float64(failures.Load())/float64(hits.Load()), pattern.rate; got < want*0.8 || got > want*1.2 {
		t.Errorf("%.2f%% of attempts failed: the test did not inject %.0f%%", 100*got, 100*want)
	}
	if n := rec.count(relBudgetMsg); n != 0 {
		t.Errorf("the budget refused %d retries under 5%% failures, want none", n)
	}
	failedIDs.Range(func(id, err any) bool {
		t.Errorf("call %v failed: %v", id, err)
		return true
	})
}

// TestRetryBudgetTotalOutage: during a total outage the budget keeps the
// load the client adds close to one attempt per call, where MaxRetries 2
// alone would make it 3, and closer still as the outage goes on; once the
// API recovers, the first call succeeds.
func TestRetryBudgetTotalOutage(t *testing.T) {
	const calls = 1000
	for _, callers := range []int{1, 8, 64} {
		t.Run(fmt.Sprintf("%d callers", callers), func(t *testing.T) {
			var down atomic.Bool
			down.Store(true)
			base, hits := relSwitchServer(t, &down)
			c := relClient(t, base) // MaxRetries 2, 1µs backoff

			// Two halves of the outage, one after the other.
			var amp [2]float64
			for half := range amp {
				before := hits.Load()
				failed := relConcurrently(callers, calls/2, func(int) error {
					_, err := c.DeleteUser(context.Background(), "u1")
					var apiErr *APIError
					if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusServiceUnavailable {
						return err
					}
					return nil
				})
				if failed != calls/2 {
					t.Fatalf("%d of %d calls failed with 503, want all", failed, calls/2)
				}
				amp[half] = float64(hits.Load()-before) / (calls / 2)
			}
			attempts := hits.Load()
			total := float64(attempts) / calls
			t.Logf("total outage, %d callers, %d calls, MaxRetries 2: %d attempts, %.3f per call (first half %.3f, second %.3f; 3.000 without a budget); budget left %.0f tokens",
				callers, calls, attempts, total, amp[0], amp[1], c.RetryBudget())
			if attempts <= calls {
				t.Errorf("%d attempts for %d calls: no call was retried, so the test proves nothing", attempts, calls)
			}
			if total > 1.1 {
				t.Errorf("%.3f attempts per call (%d / %d), want <= 1.1", total, attempts, calls)
			}
			if amp[1] >= amp[0] {
				t.Errorf("attempts per call went from %.3f to %.3f as the outage went on, want fewer", amp[0], amp[1])
			}
			if b := c.RetryBudget(); b >= budgetRetryCost {
				t.Errorf("RetryBudget() = %.0f after the outage, want < %d (retries off)", b, budgetRetryCost)
			}

			// Recovery: first attempts are never refused.
			down.Store(false)
			before := hits.Load()
			if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
				t.Fatalf("first call after recovery: %v", err)
			}
			if n := hits.Load() - before; n != 1 {
				t.Errorf("first call after recovery made %d attempts, want 1", n)
			}
		})
	}
}

// TestRetryBudgetLogsRefusal: when the budget refuses a retry, the client
// says so in a debug record carrying the tokens left; while it has tokens,
// it does not.
func TestRetryBudgetLogsRefusal(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	base, _ := relSwitchServer(t, &down)
	rec := &relRecorder{}
	c := relClient(t, base, WithLogger(slog.New(rec)))

	// The first call has a full bucket: 3 attempts, no refusal.
	if _, err := c.DeleteUser(context.Background(), "u1"); err == nil {
		t.Fatal("call succeeded against a 503 server")
	}
	if n := rec.count(relBudgetMsg); n != 0 {
		t.Fatalf("%d budget refusals logged with a full bucket, want 0", n)
	}
	// Each call into the outage takes 15 tokens: 27 calls drain 400.
	for i := 0; i < 100 && rec.count(relBudgetMsg) == 0; i++ {
		_, _ = c.DeleteUser(context.Background(), "u1")
	}
	if rec.count(relBudgetMsg) == 0 {
		t.Fatalf("no %q record after the budget drained (%.1f tokens)", relBudgetMsg, c.RetryBudget())
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, r := range rec.records {
		if !strings.Contains(r.Message, relBudgetMsg) {
			continue
		}
		if r.Level != slog.LevelDebug {
			t.Errorf("budget record at level %v, want debug", r.Level)
		}
		var tokens float64 = -1
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "budget_tokens" {
				tokens = a.Value.Float64()
			}
			return true
		})
		if tokens < 0 || tokens >= budgetRetryCost {
			t.Errorf("budget record has budget_tokens %v, want a value in [0, %d)", tokens, budgetRetryCost)
		}
	}
}

// BenchmarkRetryBudgetOutage reports attempts per call against a server
// that always answers 503 (MaxRetries 2): the amplification the budget
// allows during an outage.
func BenchmarkRetryBudgetOutage(b *testing.B) {
	base, hits := relServer(b, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := relClient(b, base)
	b.ResetTimer()
	for b.Loop() {
		_, _ = c.DeleteUser(context.Background(), "u1")
	}
	b.ReportMetric(float64(hits.Load())/float64(b.N), "attempts/call")
}

// TestBudgetRefilledByA404: an answer that is no failure of the service (a
// 404 here, after a 503 that was retried) gives back what the call's
// failed attempts took from the retry budget. (Found by gremlins: refilling
// only on a transport error instead of on such an answer passed every
// test.)
func TestBudgetRefilledByA404(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		} else {
			w.WriteHeader(http.StatusNotFound)
		}
		_, _ = w.Write([]byte(`{"message":"x"}`))
	}))
	defer srv.Close()
	c, err := NewClient(WithAPIKey("key"), WithBaseURL(srv.URL),
		WithRetryPolicy(RetryPolicy{MaxRetries: 1, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(context.Background(), "u")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || calls.Load() != 2 {
		t.Fatalf("GetUser: %v after %d requests, want the 404 of the retry", err, calls.Load())
	}
	if got := c.RetryBudget(); got != budgetCapacity {
		t.Errorf("retry budget %v after the 503 then the 404, want it full (%d)", got, budgetCapacity)
	}
}
