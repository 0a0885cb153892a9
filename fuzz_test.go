package pagecall

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzUserIDPath: for any user ID, either DeleteUser refuses it before
// sending anything (and ValidateUserID says why), or the server receives
// exactly one request whose path is /v1/users/ and one segment that
// decodes to the ID: no ID can reach another path, add a segment, or
// smuggle a query.
func FuzzUserIDPath(f *testing.F) {
	for _, id := range []string{
		"external_user_102932", "", ".", "..", "a/b", "../admin", "%2e%2e", "a?b=c", "a#frag",
		"a b", "ü", "\x00", "\xff\xfe", "/", "//", "a;b", "users/../x", "%", "+", "..%2f",
	} {
		f.Add(id)
	}

	var (
		mu   sync.Mutex
		seen []string // request URIs since the last reset
	)
	base, _ := relServer(f, func(_ int64, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.RequestURI)
		mu.Unlock()
		relWriteUser(w, "u1")
	})
	c := relClient(f, base, WithMaxRetries(0))

	f.Fuzz(func(t *testing.T, id string) {
		mu.Lock()
		seen = seen[:0]
		mu.Unlock()

		_, err := c.DeleteUser(context.Background(), id)

		mu.Lock()
		got := append([]string(nil), seen...)
		mu.Unlock()

		if verr := ValidateUserID(id); verr != nil {
			if !errors.Is(err, ErrInvalidUserID) {
				t.Fatalf("ValidateUserID(%q) = %v but DeleteUser = %v, want ErrInvalidUserID", id, verr, err)
			}
			if len(got) != 0 {
				t.Fatalf("invalid ID %q was sent: %q", id, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("DeleteUser(%q) = %v; ValidateUserID accepted it", id, err)
		}
		if len(got) != 1 {
			t.Fatalf("DeleteUser(%q) sent %d requests, want 1: %q", id, len(got), got)
		}
		seg, ok := strings.CutPrefix(got[0], "/v1/users/")
		if !ok || seg == "" || strings.ContainsAny(seg, "/?#") {
			t.Fatalf("DeleteUser(%q) requested %q, want /v1/users/ and one segment", id, got[0])
		}
		dec, err := url.PathUnescape(seg)
		if err != nil || dec != id {
			t.Fatalf("DeleteUser(%q) requested %q, whose segment decodes to %q (%v)", id, got[0], dec, err)
		}
	})
}

// FuzzParseRetryAfter: ParseRetryAfter never panics nor returns a negative
// wait; it accepts exactly RFC 9110's delay-seconds (digits, within int64)
// and HTTP-dates and rejects everything else (signs, fractions, words); and
// n seconds round-trips as n·1s, capped at 24 h.
func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120", uint64(120))
	f.Add("0", uint64(0))
	f.Add(" 5 ", uint64(5))
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT", uint64(86400))
	f.Add("Sunday, 06-Nov-94 08:49:37 GMT", uint64(86401))
	f.Add("Sun Nov  6 08:49:37 1994", uint64(1<<40))
	f.Add("-1", uint64(1))
	f.Add("+5", uint64(5))
	f.Add("1.5", uint64(2))
	f.Add("99999999999999999999", uint64(1<<63|5))
	f.Add("soon", uint64(3))
	f.Add("", uint64(0))

	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value string, secs uint64) {
		wait, ok := parseRetryAfter(value, now)
		if wait < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, negative", value, wait)
		}
		if !ok && wait != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, false: a wait without ok", value, wait)
		}
		v := strings.TrimSpace(value)
		_, dateErr := http.ParseTime(v)
		_, intErr := strconv.ParseInt(v, 10, 64)
		secsOK := relAllDigits(v) && intErr == nil // beyond int64 is junk
		valid := secsOK || dateErr == nil
		if ok != valid {
			t.Fatalf("parseRetryAfter(%q) ok = %v, want %v (delay-seconds: %v, HTTP-date: %v)", value, ok, valid, secsOK, dateErr == nil)
		}
		if wait > 24*time.Hour && relAllDigits(v) {
			t.Fatalf("parseRetryAfter(%q) = %v, want at most 24h", value, wait)
		}

		// Round trip: n seconds is n seconds, up to the 24 h cap, for any
		// n within int64.
		secs &^= 1 << 63
		w, ok := parseRetryAfter(strconv.FormatUint(secs, 10), now)
		want := 24 * time.Hour
		if secs < uint64(want/time.Second) {
			want = time.Duration(secs) * time.Second
		}
		if !ok || w != want {
			t.Fatalf("parseRetryAfter(%d) = %v, %v; want %v, true", secs, w, ok, want)
		}
	})
}

// relAllDigits reports whether s is RFC 9110 delay-seconds: 1*DIGIT.
func relAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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
