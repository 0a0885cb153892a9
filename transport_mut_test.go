package pagecall

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestRetryWaitsForBackoff: a retry after a 503 without Retry-After is not
// sent before the backoff's lower bound has passed since the answer. Only
// a lower bound is checked: a slower machine widens the gap, never
// narrows it. (Found by gremlins: sleep returning at once for every wait
// passed every test, because the waits for a Retry-After pause are also
// held by the pause itself.)
func TestRetryWaitsForBackoff(t *testing.T) {
	const backoff = 200 * time.Millisecond // drawn from [100ms, 200ms]
	var (
		mu       sync.Mutex
		answered time.Time // when the 503 was handed to the server to send
		arrived  time.Time // when the retry arrived
		calls    int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"message":"busy"}`))
			answered = time.Now()
			return
		}
		arrived = time.Now()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := NewClient(WithAPIKey("key"), WithBaseURL(srv.URL),
		WithRetryPolicy(RetryPolicy{MaxRetries: 1, InitialBackoff: backoff, MaxBackoff: backoff}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(context.Background(), "u"); err != nil {
		t.Fatalf("GetUser: %v, want success on the retry", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Fatalf("%d requests, want 2", calls)
	}
	if gap := arrived.Sub(answered); gap < backoff/2 {
		t.Errorf("the retry came %v after the 503, want at least the backoff's lower bound %v", gap, backoff/2)
	}
}
