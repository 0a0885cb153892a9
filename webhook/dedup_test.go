package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/webhook"
)

// deliverOnce sends validBody to h with the right secret and returns the answer.
func deliverOnce(h http.Handler) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(validBody))
	req.Header.Set(testHeader, testSecret)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestDeduplicatedAnswers is the deduplication rows of the package
// documentation's table.
func TestDeduplicatedAnswers(t *testing.T) {
	t.Parallel()
	d := webhook.NewMemoryDeduplicator(time.Hour)
	release := make(chan struct{})
	started := make(chan struct{})
	var calls atomic.Int32
	var fail atomic.Bool
	fail.Store(true)
	h := webhook.NewHandler(func(ctx context.Context, ev webhook.Event) error {
		if calls.Add(1) == 2 {
			close(started)
			<-release
		}
		if fail.Load() {
			fail.Store(false)
			return errors.New("first attempt fails")
		}
		return nil
	}, webhook.WithSecretHeader(testHeader, testSecret), webhook.WithDeduplicator(d))

	if w := deliverOnce(h); w.Code != 500 || calls.Load() != 1 {
		t.Fatalf("fn fails: %d after %d calls, want 500 after 1", w.Code, calls.Load())
	}
	done := make(chan int)
	go func() { done <- deliverOnce(h).Code }()
	select {
	case <-started:
	case code := <-done:
		t.Fatalf("the next attempt after a failure answered %d without running fn: the failure did not release the claim", code)
	case <-time.After(10 * time.Second):
		t.Fatal("the next attempt after a failure did not run fn within 10s")
	}
	if w := deliverOnce(h); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("a duplicate while the event runs: %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	close(release)
	if code := <-done; code != 200 {
		t.Fatalf("the next attempt after a failure: %d, want 200", code)
	}
	if w := deliverOnce(h); w.Code != 200 || calls.Load() != 2 {
		t.Fatalf("a duplicate of a handled event: %d after %d calls, want 200 after 2", w.Code, calls.Load())
	}
}

func TestDeduplicatorRunsFnOnceForConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := webhook.NewHandler(func(context.Context, webhook.Event) error {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		return nil
	}, webhook.WithSecretHeader(testHeader, testSecret), webhook.WithDeduplicator(webhook.NewMemoryDeduplicator(time.Hour)))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { deliverOnce(h) })
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("20 concurrent deliveries of one event ran fn %d times, want 1", n)
	}
}

func TestDeduplicatorReleasesWhenFnPanics(t *testing.T) {
	t.Parallel()
	d := webhook.NewMemoryDeduplicator(time.Hour)
	var calls atomic.Int32
	h := webhook.NewHandler(func(context.Context, webhook.Event) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	}, webhook.WithSecretHeader(testHeader, testSecret), webhook.WithDeduplicator(d))
	func() {
		defer func() { _ = recover() }() // as net/http's server does
		deliverOnce(h)
	}()
	if w := deliverOnce(h); w.Code != 200 || calls.Load() != 2 {
		t.Fatalf("after a panic: %d after %d calls, want the event run again", w.Code, calls.Load())
	}
}

// unreachable is a Deduplicator whose store is down.
type unreachable struct{}

func (unreachable) Claim(context.Context, webhook.EventID) (string, webhook.ClaimState, error) {
	return "", 0, errors.New("store down")
}
func (unreachable) Done(context.Context, webhook.EventID, string) error    { return nil }
func (unreachable) Release(context.Context, webhook.EventID, string) error { return nil }

func TestDeduplicatorDownStillHandles(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var calls atomic.Int32
	h := webhook.NewHandler(func(context.Context, webhook.Event) error { calls.Add(1); return nil },
		webhook.WithSecretHeader(testHeader, testSecret), webhook.WithDeduplicator(unreachable{}),
		webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if w := deliverOnce(h); w.Code != 200 || calls.Load() != 1 {
		t.Fatalf("with the store down: %d after %d calls, want 200 after 1", w.Code, calls.Load())
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "store down") {
		t.Fatalf("no warning logged: %s", logs.String())
	}
}

func TestMemoryDeduplicatorForgetsAfterTTL(t *testing.T) {
	t.Parallel()
	d := webhook.NewMemoryDeduplicator(50 * time.Millisecond)
	id := webhook.EventID{SessionID: "s", Action: "a"}
	tok, _, _ := d.Claim(context.Background(), id)
	_ = d.Done(context.Background(), id, tok)
	if _, st, _ := d.Claim(context.Background(), id); st != webhook.Handled {
		t.Fatalf("within ttl: %v", st)
	}
	time.Sleep(80 * time.Millisecond)
	if _, st, _ := d.Claim(context.Background(), id); st != webhook.Claimed {
		t.Fatalf("after ttl: %v, want Claimed", st)
	}
}

// ctxHonouring is a MemoryDeduplicator whose Done fails on an ended
// context, as a networked store's does.
type ctxHonouring struct{ *webhook.MemoryDeduplicator }

func (c ctxHonouring) Done(ctx context.Context, id webhook.EventID, tok string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.MemoryDeduplicator.Done(ctx, id, tok)
}

func TestDoneRecordedAfterTheSenderHangsUp(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	h := webhook.NewHandler(func(context.Context, webhook.Event) error {
		calls.Add(1)
		cancel() // the sender hangs up as fn ends
		return nil
	}, webhook.WithSecretHeader(testHeader, testSecret),
		webhook.WithDeduplicator(ctxHonouring{webhook.NewMemoryDeduplicator(time.Hour)}))
	req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(validBody)).WithContext(ctx)
	req.Header.Set(testHeader, testSecret)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if w := deliverOnce(h); w.Code != 200 || calls.Load() != 1 {
		t.Fatalf("a redelivery after the first sender hung up: %d after %d calls, want 200 after 1 (the event recorded done)", w.Code, calls.Load())
	}
}
