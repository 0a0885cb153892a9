package pagecall

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
)

// TestNewPagerDefaults: only a positive offset or limit of the caller's is
// taken; zero or below gets offset 0 and DefaultPageSize. (Found by
// gremlins: a limit of 0 taken as given passed every test.)
func TestNewPagerDefaults(t *testing.T) {
	for _, tc := range []struct {
		name          string
		offset, limit *int
		want          pager
	}{
		{"none", nil, nil, pager{0, DefaultPageSize}},
		{"zero limit", Ptr(5), Ptr(0), pager{5, DefaultPageSize}},
		{"negative", Ptr(-1), Ptr(-3), pager{0, DefaultPageSize}},
		{"given", Ptr(0), Ptr(7), pager{0, 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newPager(tc.offset, tc.limit); got != tc.want {
				t.Errorf("newPager = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestPagerNext: a full page may be followed by another, a short or empty
// one ends the list, and so does reaching a known total. (Found by
// gremlins: a full page taken as the last passed every test.)
func TestPagerNext(t *testing.T) {
	type step struct {
		n, total   int
		more       bool
		nextOffset int
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"unknown total", []step{{2, -1, true, 2}, {2, -1, true, 4}, {1, -1, false, 4}}},
		{"empty page", []step{{2, -1, true, 2}, {0, -1, false, 2}}},
		{"known total", []step{{2, 5, true, 2}, {2, 5, true, 4}, {1, 5, false, 4}}},
		{"total reached on a full page", []step{{2, 4, true, 2}, {2, 4, false, 4}}},
		{"a known total of 0 is no unknown total", []step{{2, 0, false, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pager{limit: 2}
			for i, s := range tc.steps {
				if more := p.next(s.n, s.total); more != s.more || p.offset != s.nextOffset {
					t.Fatalf("step %d: next(%d, %d) = %v at offset %d, want %v at offset %d",
						i+1, s.n, s.total, more, p.offset, s.more, s.nextOffset)
				}
			}
		})
	}
}

// TestMalformedNamesTheAnswer: the error for a 2xx answer without its JSON
// body names the status, the content type and the path, and a missing
// response does not panic. (Found by gremlins: the answer's status and
// content type could be dropped without a test failing.)
func TestMalformedNamesTheAnswer(t *testing.T) {
	op := &operation{method: http.MethodGet, path: "/users/{user_id}"}
	resp := &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"text/html"}},
		Request:    &http.Request{URL: &url.URL{Path: "/v1/users/u"}},
	}
	err := malformed(op, resp, 1)
	var re *RequestError
	if !errors.As(err, &re) || !errors.Is(err, ErrMalformedResponse) {
		t.Fatalf("malformed = %v, want a *RequestError wrapping ErrMalformedResponse", err)
	}
	want := `pagecall: GET /v1/users/u: malformed response: 200 answer with content type "text/html", want JSON`
	if err.Error() != want {
		t.Errorf("malformed = %q, want %q", err, want)
	}
	if err := malformed(op, nil, 1); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("malformed(op, nil, 1) = %v, want ErrMalformedResponse", err)
	}
}
