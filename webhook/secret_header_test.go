package webhook_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pplink/pagecall-go/webhook"
)

// deliver sends validBody to h with header name set to values (in order)
// and returns the status.
func deliver(h http.Handler, name string, values ...string) int {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(validBody))
	for _, v := range values {
		req.Header.Add(name, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// TestSecretHeaderSentTwiceIsRefused: a delivery that repeats the secret
// header is refused (401), whatever the order of its values: a proxy or an
// attacker that adds a value must not be trusted because the right one is
// among them, first or not.
func TestSecretHeaderSentTwiceIsRefused(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := webhook.NewHandler(rec.fn, webhook.WithSecretHeader(testHeader, testSecret))
	if got := deliver(h, testHeader, testSecret); got != http.StatusOK {
		t.Fatalf("control: one right value: status %d, want 200", got)
	}
	for _, values := range [][]string{
		{testSecret, "wrong"},
		{"wrong", testSecret},
		{testSecret, testSecret},
	} {
		if got := deliver(h, testHeader, values...); got != http.StatusUnauthorized {
			t.Errorf("%s sent twice as %q: status %d, want 401", testHeader, values, got)
		}
	}
	if n := len(rec.calls()); n != 1 {
		t.Errorf("fn called %d times, want once (the control)", n)
	}
}

// TestSecretHeaderRotation: two WithSecretHeader options with the same
// header name (a secret being rotated) both work, and nothing else does.
func TestSecretHeaderRotation(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := webhook.NewHandler(rec.fn,
		webhook.WithSecretHeader(testHeader, "old-secret"),
		webhook.WithSecretHeader(strings.ToLower(testHeader), "new-secret"))
	for _, tt := range []struct {
		value  string
		status int
	}{
		{"old-secret", http.StatusOK},
		{"new-secret", http.StatusOK},
		{"other-secret", http.StatusUnauthorized},
	} {
		if got := deliver(h, testHeader, tt.value); got != tt.status {
			t.Errorf("%s: %s: status %d, want %d", testHeader, tt.value, got, tt.status)
		}
	}
	if n := len(rec.calls()); n != 2 {
		t.Errorf("fn called %d times, want 2", n)
	}
}
