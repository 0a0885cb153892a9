package pagecall

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAPIErrorDetail: a non-2xx answer becomes a *APIError that carries
// what an on-call engineer needs (the server's message, request ID,
// attempts, method and path, Retry-After, the start of the body) in one
// line that never has the key, whatever shape the body takes.
func TestAPIErrorDetail(t *testing.T) {
	longBody := `{"message":"too long","pad":"` + strings.Repeat("p", 10<<10) + `"}`
	cases := []struct {
		name        string
		status      int
		header      map[string]string
		body        string
		retries     int
		attempts    int // 0: retries+1
		wantMessage string
		wantID      string
		wantAfter   time.Duration
		wantBodyLen int // -1: len(body)
		wantInLine  []string
	}{
		{
			name: "JSON message", status: 400, body: `{"message":"user_id is required"}`,
			header:      map[string]string{"Content-Type": "application/json", "X-Request-Id": "req-abc"},
			wantMessage: "user_id is required", wantID: "req-abc", wantBodyLen: -1,
			wantInLine: []string{"DELETE /v1/users/u1", "400 Bad Request", "user_id is required", "request id req-abc"},
		},
		{
			name: "JSON error string", status: 404, body: `{"error":"user not found"}`,
			header:      map[string]string{"Content-Type": "application/json", "Request-Id": "rid-7"},
			wantMessage: "user not found", wantID: "rid-7", wantBodyLen: -1,
			wantInLine: []string{"404 Not Found: user not found", "request id rid-7"},
		},
		{
			name: "JSON error object", status: 409, body: `{"error":{"code":"conflict","message":"user is in a room"}}`,
			wantMessage: "user is in a room", wantBodyLen: -1,
			wantInLine: []string{"409 Conflict: user is in a room"},
		},
		{
			name: "plain text", status: 403, body: "Forbidden:\n  key lacks scope users:write\n",
			header:      map[string]string{"Content-Type": "text/plain"},
			wantMessage: "Forbidden: key lacks scope users:write", wantBodyLen: -1,
			wantInLine: []string{"403 Forbidden: Forbidden: key lacks scope users:write"},
		},
		{
			name: "HTML 503 from a proxy, retried", status: 503, retries: 2,
			body: "<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title>" +
				"<style>body{color:red}</style><script>var x = '<b>';</script></head>\n" +
				"<body><h1>Service Temporarily Unavailable</h1><p>The server is down for maintenance.</p></body></html>",
			header:      map[string]string{"Content-Type": "text/html; charset=utf-8", "X-Amzn-Requestid": "amzn-1"},
			wantMessage: "503 Service Temporarily Unavailable Service Temporarily Unavailable The server is down for maintenance.",
			wantID:      "amzn-1", wantBodyLen: -1,
			wantInLine: []string{"503 Service Unavailable: 503 Service Temporarily Unavailable", "after 3 attempts"},
		},
		{
			name: "429 with Retry-After past the cap: not waited, not retried", status: 429, retries: 2, attempts: 1, body: `{"message":"rate limited"}`,
			header:      map[string]string{"Retry-After": "120"},
			wantMessage: "rate limited", wantAfter: 2 * time.Minute, wantBodyLen: -1,
			wantInLine: []string{"429 Too Many Requests: rate limited", "(retry after 2m0s)"},
		},
		{
			name: "long body truncated to 4 KiB", status: 422, body: longBody,
			wantMessage: "too long", wantBodyLen: maxErrorBody,
			wantInLine: []string{"422 Unprocessable Entity: too long"},
		},
		{
			name: "empty body", status: 500, body: "", wantBodyLen: 0,
			wantInLine: []string{"DELETE /v1/users/u1: 500 Internal Server Error"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, hits := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			c := relClient(t, base, WithMaxRetries(tc.retries))
			_, err := c.DeleteUser(context.Background(), "u1")
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("err = %T %v, want *APIError", err, err)
			}
			line := err.Error()
			t.Logf("Error(): %s", line)

			if e.StatusCode != tc.status || e.Method != http.MethodDelete || e.Path != "/v1/users/u1" {
				t.Errorf("status/method/path = %d %s %s, want %d DELETE /v1/users/u1", e.StatusCode, e.Method, e.Path, tc.status)
			}
			if e.Message != tc.wantMessage {
				t.Errorf("Message = %q, want %q", e.Message, tc.wantMessage)
			}
			if e.RequestID != tc.wantID {
				t.Errorf("RequestID = %q, want %q", e.RequestID, tc.wantID)
			}
			if e.RetryAfter != tc.wantAfter {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tc.wantAfter)
			}
			want := int64(tc.retries + 1)
			if tc.attempts > 0 {
				want = int64(tc.attempts)
			}
			if int64(e.Attempts) != want || hits.Load() != want {
				t.Errorf("Attempts = %d, server saw %d, want %d", e.Attempts, hits.Load(), want)
			}
			wantBody := tc.wantBodyLen
			if wantBody < 0 {
				wantBody = len(tc.body)
			}
			if len(e.Body) != wantBody || !bytes.HasPrefix([]byte(tc.body), e.Body) {
				t.Errorf("Body has %d bytes, want the first %d of the body", len(e.Body), wantBody)
			}
			if strings.ContainsAny(line, "\r\n") {
				t.Errorf("Error() is not one line: %q", line)
			}
			if strings.Contains(line, relKey) {
				t.Errorf("Error() contains the key: %s", line)
			}
			for _, s := range tc.wantInLine {
				if !strings.Contains(line, s) {
					t.Errorf("Error() = %q, want it to contain %q", line, s)
				}
			}
			if len(line) > 1024 {
				t.Errorf("Error() is %d bytes long", len(line))
			}
		})
	}
}
