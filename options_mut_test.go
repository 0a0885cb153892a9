package pagecall

import "testing"

// TestMaxResponseBytesZeroIsDefault: WithMaxResponseBytes of 0 or below
// leaves the default cap rather than refusing every body. (Found by
// gremlins: 0 taken as a cap of 0 bytes passed every test.)
func TestMaxResponseBytesZeroIsDefault(t *testing.T) {
	for _, n := range []int64{0, -1} {
		c, err := NewClient(WithAPIKey("key"), WithMaxResponseBytes(n))
		if err != nil {
			t.Fatal(err)
		}
		if c.loop.maxBody != DefaultMaxResponseBytes {
			t.Errorf("WithMaxResponseBytes(%d): cap %d, want DefaultMaxResponseBytes (%d)", n, c.loop.maxBody, DefaultMaxResponseBytes)
		}
	}
	c, err := NewClient(WithAPIKey("key"), WithMaxResponseBytes(1))
	if err != nil {
		t.Fatal(err)
	}
	if c.loop.maxBody != 1 {
		t.Errorf("WithMaxResponseBytes(1): cap %d, want 1", c.loop.maxBody)
	}
}
