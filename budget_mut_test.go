package pagecall

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

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
