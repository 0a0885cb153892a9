package pagecall

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
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

// TestRetryBudgetTotalOutage: during a total outage the budget keeps the
// load the client adds close to one attempt per call, where MaxRetries 2
// alone would make it 3; once the API recovers, the first call succeeds.
func TestRetryBudgetTotalOutage(t *testing.T) {
	const calls = 1000
	for _, callers := range []int{1, 8} {
		t.Run(map[int]string{1: "sequential", 8: "8 concurrent callers"}[callers], func(t *testing.T) {
			var down atomic.Bool
			down.Store(true)
			base, hits := relSwitchServer(t, &down)
			c := relClient(t, base) // MaxRetries 2, 1µs backoff

			var wg sync.WaitGroup
			var failed atomic.Int64
			for range callers {
				wg.Go(func() {
					for range calls / callers {
						_, err := c.DeleteUser(context.Background(), "u1")
						var apiErr *APIError
						if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusServiceUnavailable {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			if failed.Load() != calls {
				t.Fatalf("%d of %d calls failed with 503, want all", failed.Load(), calls)
			}

			attempts := hits.Load()
			amp := float64(attempts) / calls
			t.Logf("total outage, %d calls, MaxRetries 2: %d attempts, amplification %.3f (3.000 without a budget); budget left %.1f tokens",
				calls, attempts, amp, c.RetryBudget())
			if attempts <= calls {
				t.Errorf("%d attempts for %d calls: no call was retried, so the test proves nothing", attempts, calls)
			}
			if amp > 1.1 {
				t.Errorf("amplification %.3f (%d attempts / %d calls), want <= 1.1", amp, attempts, calls)
			}
			if b := c.RetryBudget(); b > budgetMaxTokens/2 {
				t.Errorf("RetryBudget() = %.1f after the outage, want <= 5 (retries off)", b)
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

// TestRetryBudgetTransientFailures: 5% of requests failing (every 20th is
// a 503) never drains the budget, so every call succeeds by retrying.
func TestRetryBudgetTransientFailures(t *testing.T) {
	const calls = 1000
	var failures atomic.Int64
	base, hits := relServer(t, func(n int64, w http.ResponseWriter, _ *http.Request) {
		if n%20 == 0 {
			failures.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		relWriteUser(w, "u1")
	})
	rec := &relRecorder{}
	c := relClient(t, base, WithLogger(slog.New(rec)))

	low := float64(budgetMaxTokens)
	for i := range calls {
		if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
			t.Fatalf("call %d of %d failed: %v", i+1, calls, err)
		}
		low = min(low, c.RetryBudget())
	}
	t.Logf("5%% transient 503s: %d calls, %d attempts, %d 503s, budget never below %.1f tokens", calls, hits.Load(), failures.Load(), low)
	if failures.Load() < calls/20 {
		t.Errorf("only %d 503s were served: the test did not inject 5%% failures", failures.Load())
	}
	if n := rec.count(relBudgetMsg); n != 0 {
		t.Errorf("the budget refused %d retries under 5%% failures, want none", n)
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
	for range 5 {
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
		if tokens < 0 || tokens > budgetMaxTokens/2 {
			t.Errorf("budget record has budget_tokens %v, want a value in [0, 5]", tokens)
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
