package pagecall

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

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
