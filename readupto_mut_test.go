package pagecall

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
)

// TestReadUpToStopsAtLimitPlusOne: readUpTo reads no more than limit+1
// bytes of a longer body, as its comment promises (what is left is
// drained or the connection closed, at the caller's choice), whatever the
// chunk sizes. (Found by gremlins: a chunk sized past limit+1 read on
// into the body and passed every test.)
func TestReadUpToStopsAtLimitPlusOne(t *testing.T) {
	const size = 1 << 20
	for _, limit := range []int64{1, 511, 512, 1000, 5000} {
		for _, hint := range []int64{-1, size} {
			r := strings.NewReader(strings.Repeat("x", size))
			body, more, err := readUpTo(r, hint, limit, true)
			if err != nil || !more || int64(len(body)) != limit {
				t.Fatalf("limit %d, hint %d: %d bytes, more %v, err %v; want %d bytes and more", limit, hint, len(body), more, err, limit)
			}
			if read := size - int64(r.Len()); read != limit+1 {
				t.Errorf("limit %d, hint %d: read %d bytes of the body, want limit+1 = %d", limit, hint, read, limit+1)
			}
		}
	}
}

// hiccupReader returns (0, nil) once before each of its reads of data, as
// io.Reader allows.
type hiccupReader struct {
	data   []byte
	paused bool
}

func (r *hiccupReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if r.paused = !r.paused; r.paused {
		return 0, nil
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReadUpToToleratesEmptyReads: a read that returns nothing now and
// then is no stuck body; only a long run of them (100) is. (Found by
// gremlins: giving up at the first empty read passed every test.)
func TestReadUpToToleratesEmptyReads(t *testing.T) {
	want := strings.Repeat("x", 3000)
	body, more, err := readUpTo(&hiccupReader{data: []byte(want)}, -1, 10000, false)
	if err != nil || more || string(body) != want {
		t.Fatalf("readUpTo = %d bytes, more %v, err %v; want the %d bytes", len(body), more, err, len(want))
	}
}

// TestUnwrapURLError: the *url.Error wrapper is dropped for its cause,
// whose message does not repeat the method and URL.
func TestUnwrapURLError(t *testing.T) {
	if got := unwrapURLError(&url.Error{Op: "Get", URL: "http://x/", Err: io.ErrUnexpectedEOF}); got != io.ErrUnexpectedEOF {
		t.Errorf("unwrapURLError = %v, want io.ErrUnexpectedEOF", got)
	}
	plain := errors.New("plain")
	if got := unwrapURLError(plain); got != plain {
		t.Errorf("unwrapURLError(plain) = %v", got)
	}
}
