package pagecall

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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

// TestRequestErrorMessage: RequestError's line names the request when it
// is known, says "pagecall: " once, counts attempts only when there were
// several, and names the previous attempt's failure only when there was
// one. (Found by gremlins: every one of these conditions could be flipped
// without a test failing.)
func TestRequestErrorMessage(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		err  *RequestError
		want string
	}{
		{"method and path", &RequestError{Method: "GET", Path: "/users/u", Attempts: 1, Err: boom},
			"pagecall: GET /users/u: boom"},
		{"no method or path", &RequestError{Attempts: 1, Err: boom},
			"pagecall: boom"},
		{"our sentinel, prefix said once", &RequestError{Method: "DELETE", Path: "/users/u", Attempts: 1, Err: ErrResponseTooLarge},
			"pagecall: DELETE /users/u: response body too large"},
		{"no attempt sent", &RequestError{Method: "GET", Path: "/users/u", Err: boom},
			"pagecall: GET /users/u: boom"},
		{"two attempts", &RequestError{Method: "GET", Path: "/users/u", Attempts: 2, Err: boom},
			"pagecall: GET /users/u: boom after 2 attempts"},
		{"last attempt's failure", &RequestError{Method: "GET", Path: "/users/u", Attempts: 3, Err: boom, Last: errors.New("503")},
			"pagecall: GET /users/u: boom after 3 attempts (last attempt: 503)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAPIErrorBodyBounds: APIError.Body is nil for an empty body, a copy of
// the whole body up to maxErrorBody bytes, and its first maxErrorBody bytes
// beyond. (Found by gremlins: an empty, non-nil Body went unnoticed.)
func TestAPIErrorBodyBounds(t *testing.T) {
	resp := &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{}}
	now := time.Now()
	if e := newAPIError("GET", "/users/u", 1, resp, []byte{}, now); e.Body != nil {
		t.Errorf("empty body: Body = %q, want nil", e.Body)
	}
	for _, n := range []int{1, maxErrorBody - 1, maxErrorBody, maxErrorBody + 1, 3 * maxErrorBody} {
		body := []byte(strings.Repeat("x", n))
		e := newAPIError("GET", "/users/u", 1, resp, body, now)
		if want := min(n, maxErrorBody); len(e.Body) != want {
			t.Errorf("body of %d bytes: len(Body) = %d, want %d", n, len(e.Body), want)
		}
		if len(e.Body) > 0 && &e.Body[0] == &body[0] {
			t.Errorf("body of %d bytes: Body shares the caller's buffer", n)
		}
	}
}

// TestEvery2xxStatusIsSuccess: every status from 200 to 299 is success and
// the statuses around them an *APIError. (Found by gremlins in the former
// Check: 299 taken as an error passed every test.)
func TestEvery2xxStatusIsSuccess(t *testing.T) {
	for _, code := range []int{200, 204, 299, 300, 404} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }))
		c, err := NewClient(WithAPIKey("k"), WithBaseURL(srv.URL+"/v1"), WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		err = c.Do(context.Background(), http.MethodGet, "/status", nil, nil)
		srv.Close()
		var apiErr *APIError
		switch ok := code <= 299; {
		case ok && err != nil:
			t.Errorf("status %d: %v, want success", code, err)
		case !ok && (!errors.As(err, &apiErr) || apiErr.StatusCode != code):
			t.Errorf("status %d: %v, want an *APIError with that status", code, err)
		}
	}
}

// TestTruncateRuneBoundary: truncate keeps a string of at most n bytes whole, and
// otherwise cuts it at n bytes or just before, on a rune boundary, then
// marks the cut. It never panics, also on bytes that are not UTF-8 (a
// request ID header can hold any). (Found by gremlins: a string of exactly
// n bytes, and a cut that backs up to the start, were untested; either
// boundary moved made truncate panic.)
func TestTruncateRuneBoundary(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"shorter", "ab", 3, "ab"},
		{"exactly n", "abc", 3, "abc"},
		{"one over", "abcd", 3, "abc…"},
		{"cut inside a 2-byte rune", "a" + strings.Repeat("é", 10), 4, "aé…"},
		{"cut inside a 3-byte rune, odd offset", "a" + strings.Repeat("한", 5), 5, "a한…"},
		{"cut on a rune boundary", strings.Repeat("é", 5), 4, "éé…"},
		{"only continuation bytes", strings.Repeat("\x80", 8), 4, "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.s, tc.n)
			if got != tc.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
			if utf8.ValidString(tc.s) && !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d) = %q: not valid UTF-8", tc.s, tc.n, got)
			}
		})
	}
}

// TestRequestIDNotUTF8: a long request ID header that is not UTF-8 is cut
// like any other, without a panic.
func TestRequestIDNotUTF8(t *testing.T) {
	resp := &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{}}
	resp.Header.Set("X-Request-Id", strings.Repeat("\x80", 200))
	e := newAPIError("GET", "/users/u", 1, resp, nil, time.Now())
	if e.RequestID != "…" {
		t.Errorf("RequestID = %q, want the cut mark alone", e.RequestID)
	}
}

// TestTruncateNeverSplitsARune: a cut at any byte offset, the multibyte
// run starting at an odd one included, leaves valid UTF-8.
func TestTruncateNeverSplitsARune(t *testing.T) {
	for _, r := range []string{"é", "€", "😀"} {
		for lead := range 4 {
			s := strings.Repeat("a", lead) + strings.Repeat(r, 300)
			for n := 1; n < 40; n++ {
				got := truncate(s, n)
				if !utf8.ValidString(got) {
					t.Fatalf("truncate(%d×a + %q…, %d) = %q: invalid UTF-8", lead, r, n, got)
				}
				if len(strings.TrimSuffix(got, "…")) > n {
					t.Fatalf("truncate(…, %d) kept %d bytes", n, len(got))
				}
			}
		}
	}
	msg := errorMessage("text/plain", []byte("x"+strings.Repeat("é", 600)))
	if !utf8.ValidString(msg) {
		t.Errorf("ErrorMessage of a long message at an odd offset = %q: invalid UTF-8", msg)
	}
}

func TestAPIErrorFields(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-42")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message": "user not found"}`)
	})
	_, err := c.DeleteUser(context.Background(), "nobody")
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	want := APIError{StatusCode: 400, Method: "DELETE", Path: "/v1/users/nobody", Message: "user not found", RequestID: "req-42", Attempts: 1}
	got := *apiErr
	got.Body, got.Header = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("APIError = %+v\nwant %+v", got, want)
	}
	if string(apiErr.Body) != `{"message": "user not found"}` {
		t.Errorf("Body = %q", apiErr.Body)
	}
	if msg := err.Error(); msg != "pagecall: DELETE /v1/users/nobody: 400 Bad Request: user not found (request id req-42)" {
		t.Errorf("Error() = %q", msg)
	}
}

// FuzzErrorMessage: whatever a server sends, ErrorMessage never panics and
// returns valid UTF-8, on one line, of bounded length, so an APIError line
// stays readable.
func FuzzErrorMessage(f *testing.F) {
	f.Add("application/json", []byte(`{"message":"user not found"}`))
	f.Add("application/json", []byte(`{"error":{"message":"nested"}}`))
	f.Add("application/json", []byte(`{"error":"line1\nline2\u2028line3"}`))
	f.Add("application/json", []byte(`{"message":"\ud800 lone surrogate"}`))
	f.Add("application/json", []byte(`{"message":`))
	f.Add("text/html", []byte("<html><head><title>502 Bad Gateway</title><script>if (a<b) {}</script></head><body><h1>502</h1></body></html>"))
	f.Add("text/html", []byte("<style>unterminated"))
	f.Add("text/html", []byte("<<<>>><a href='>'>x</a>"))
	f.Add("text/plain", []byte("Service Unavailable\r\n\r\ntry later"))
	f.Add("", []byte("\xff\xfe\x00binary"))
	f.Add("", []byte(strings.Repeat("é", 600)))
	f.Add("", []byte{})

	const maxLen = maxMessage + len("…")
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		msg := errorMessage(contentType, body)
		if !utf8.ValidString(msg) {
			t.Fatalf("errorMessage(%q, %q) = %q: invalid UTF-8", contentType, body, msg)
		}
		if len(msg) > maxLen {
			t.Fatalf("errorMessage(%q, %d bytes) is %d bytes, want at most %d", contentType, len(body), len(msg), maxLen)
		}
		if strings.ContainsAny(msg, "\r\n\u2028\u2029") {
			t.Fatalf("errorMessage(%q, %q) = %q: more than one line", contentType, body, msg)
		}
	})
}
