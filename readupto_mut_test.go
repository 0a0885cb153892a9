package pagecall

import (
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
