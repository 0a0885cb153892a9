package pagecall

import (
	"testing"
	"time"
)

// TestBackoffRangeZeroMaxIsDefault: a MaxBackoff of 0 means
// DefaultMaxBackoff, not "as long as InitialBackoff": late retries wait up
// to DefaultMaxBackoff. (Found by gremlins: a zero MaxBackoff kept as
// zero, then raised to InitialBackoff, passed every test.)
func TestBackoffRangeZeroMaxIsDefault(t *testing.T) {
	for _, p := range []RetryPolicy{
		{},
		{InitialBackoff: 10 * time.Millisecond},
		{InitialBackoff: 10 * time.Millisecond, MaxBackoff: -time.Second},
	} {
		lo, hi := p.BackoffRange(20)
		if hi != DefaultMaxBackoff || lo != DefaultMaxBackoff/2 {
			t.Errorf("%+v: BackoffRange(20) = [%v, %v], want [%v, %v]", p, lo, hi, DefaultMaxBackoff/2, DefaultMaxBackoff)
		}
	}
}
