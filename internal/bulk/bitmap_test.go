//go:build !anyspec

package bulk

import "testing"

// TestBitmapHoldsExactlyTheSetPositions: set positions read back as set,
// their neighbours and out-of-range positions as not.
func TestBitmapHoldsExactlyTheSetPositions(t *testing.T) {
	const n = 200
	b := newBitmap(n)
	set := map[int64]bool{0: true, 1: true, 63: true, 64: true, 127: true, 199: true}
	for i := range set {
		b.set(i)
	}
	for i := int64(-1); i <= n+64; i++ {
		if got := b.has(i); got != set[i] {
			t.Errorf("has(%d) = %v, want %v", i, got, set[i])
		}
	}
	if len(b) != (n+63)/64 {
		t.Errorf("%d words for %d bits, want %d", len(b), n, (n+63)/64)
	}
}
