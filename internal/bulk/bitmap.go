package bulk

// bitmap is a set of small non-negative integers, one bit each: ten
// million positions take 1.25 MB.
//
// Hand-written rather than github.com/bits-and-blooms/bitset: it is
// two methods, and the CLI lives in the SDK's module, whose dependencies
// every user of the SDK downloads.
type bitmap []uint64

func newBitmap(n int64) bitmap { return make(bitmap, (n+63)/64) }

// set adds i, which must be below the size given to newBitmap.
func (b bitmap) set(i int64) { b[i/64] |= 1 << (i % 64) }

// has reports whether i was added; false for any i out of range.
func (b bitmap) has(i int64) bool {
	return i >= 0 && i/64 < int64(len(b)) && b[i/64]&(1<<(i%64)) != 0
}
