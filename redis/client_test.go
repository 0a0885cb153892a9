//go:build !anyspec

package pagecallredis

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
)

// apiServer answers DeleteUser with a user; answer, if set, may answer
// first (and report true).
func apiServer(t *testing.T, answer func(w http.ResponseWriter, r *http.Request) bool) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if answer != nil && answer(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(benchUser)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newAPIClient(t *testing.T, url, key string, opts ...pagecall.Option) *pagecall.Client {
	t.Helper()
	c, err := pagecall.NewClient(append([]pagecall.Option{pagecall.WithAPIKey(key), pagecall.WithBaseURL(url), pagecall.WithInsecureHTTP(),
		pagecall.WithRetryPolicy(pagecall.RetryPolicy{MaxRetries: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAPIKeyNeverReachesRedis: a client that paused, spent and refunded
// through Redis wrote keys under the default namespace (a hash), and no
// key or value holds the API key.
func TestAPIKeyNeverReachesRedis(t *testing.T) {
	m, rdb := newMini(t)
	const key = "sk_live_FLEET-KEY-must-not-leak"
	var n atomic.Int32
	url := apiServer(t, func(w http.ResponseWriter, r *http.Request) bool {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	c := newAPIClient(t, url, key, New(rdb, WithRateLimit(100, 5), WithTimeout(time.Second)))
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	keys := m.Keys()
	if len(keys) == 0 {
		t.Fatal("the client wrote nothing to Redis: the fleet was not used")
	}
	ns := regexp.MustCompile(`^pagecall:[0-9a-f]{32}:(rate|pause|budget)$`)
	for _, k := range keys {
		if !ns.MatchString(k) {
			t.Errorf("key %q is not under the default namespace pagecall:<32 hex>", k)
		}
		if strings.Contains(k, key) {
			t.Errorf("key %q holds the API key", k)
		}
		if v, err := m.Get(k); err == nil && strings.Contains(v, key) {
			t.Errorf("value of %q holds the API key", k)
		}
	}
	t.Logf("keys written: %v", keys)
}

// TestClientsShareThePause: a 429 to one client holds another client of
// the same key, and not a client of another key.
func TestClientsShareThePause(t *testing.T) {
	_, rdb := newMini(t)
	url := apiServer(t, func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/a") {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	a := newAPIClient(t, url, "key-1", New(rdb, WithTimeout(time.Second)), pagecall.WithMaxRetries(0))
	b := newAPIClient(t, url, "key-1", New(rdb, WithTimeout(time.Second)))
	other := newAPIClient(t, url, "key-2", New(rdb, WithTimeout(time.Second)))
	time.Sleep(100 * time.Millisecond) // subscribed
	if _, err := a.DeleteUser(context.Background(), "a"); err == nil {
		t.Fatal("a's 429 did not fail its call (no retries)")
	}
	time.Sleep(200 * time.Millisecond) // the pause travels through Pub/Sub
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := b.DeleteUser(ctx, "b")
	var apiErr *pagecall.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("b's call within the fleet's pause = %v, want the pause's 429 at once", err)
	}
	if _, err := other.DeleteUser(context.Background(), "c"); err != nil {
		t.Fatalf("a client of another key was held: %v", err)
	}
}
