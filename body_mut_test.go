package pagecall

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// paddedBodyServer answers every request with status and a JSON object padded
// with blanks to n bytes, with its Content-Length.
func paddedBodyServer(t *testing.T, status, n int) *httptest.Server {
	t.Helper()
	body := `{"id":"u"}`
	body += strings.Repeat(" ", n-len(body))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBodyOfExactlyTheCap: a 2xx body of exactly WithMaxResponseBytes
// bytes is read; one byte more is ErrResponseTooLarge. (Found by gremlins:
// refusing a body as long as the cap passed every test.)
func TestBodyOfExactlyTheCap(t *testing.T) {
	const limit = 1000
	for _, tc := range []struct {
		n       int
		wantErr bool
	}{{limit, false}, {limit + 1, true}} {
		srv := paddedBodyServer(t, http.StatusOK, tc.n)
		c, err := NewClient(WithAPIKey("key"), WithBaseURL(srv.URL), WithMaxResponseBytes(limit))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetUser(context.Background(), "u")
		if gotErr := err != nil; gotErr != tc.wantErr {
			t.Errorf("body of %d bytes, cap %d: err %v, want error %v", tc.n, limit, err, tc.wantErr)
		}
	}
}

// TestCapOfOneByte: the smallest cap works: a 2xx body of one byte is
// read whole (and refused as no User), one of two is too large. (Found by
// gremlins: a first buffer of limit-1 bytes, empty for a cap of 1, made
// the read loop spin forever.)
func TestCapOfOneByte(t *testing.T) {
	for _, tc := range []struct {
		body string
		want error
	}{{"1", ErrMalformedResponse}, {"12", ErrResponseTooLarge}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(tc.body))
		}))
		c, err := NewClient(WithAPIKey("key"), WithBaseURL(srv.URL), WithMaxResponseBytes(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetUser(context.Background(), "u"); !errors.Is(err, tc.want) {
			t.Errorf("body %q, cap 1: %v, want %v", tc.body, err, tc.want)
		}
		srv.Close()
	}
}
