package pagecall

import (
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

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
