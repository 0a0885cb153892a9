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

// TestBackoffRangeOverflow: a doubling that overflows to zero is capped by
// MaxBackoff like any long wait, never taken as a wait of zero. (Found by
// gremlins: accepting a doubled backoff of 0 passed every test.)
func TestBackoffRangeOverflow(t *testing.T) {
	p := RetryPolicy{InitialBackoff: 1 << 34, MaxBackoff: time.Hour} // 2^34 ns << 30 wraps to 0
	if lo, hi := p.BackoffRange(31); hi != time.Hour || lo != time.Hour/2 {
		t.Errorf("BackoffRange(31) = [%v, %v], want [%v, %v]", lo, hi, time.Hour/2, time.Hour)
	}
}

// TestBackoffReachesBothEnds: Backoff draws from the whole closed range
// [max/2, max] of BackoffRange, both ends included, and a range of one
// nanosecond does not panic. (Found by gremlins: a draw that never reached
// the top passed every test.) With a range of three values, 300 draws
// miss an end with probability (2/3)^300, below 1e-52.
func TestBackoffReachesBothEnds(t *testing.T) {
	p := RetryPolicy{InitialBackoff: 3, MaxBackoff: 3} // range [1ns, 3ns]
	seen := map[time.Duration]bool{}
	for range 300 {
		d := p.Backoff(1)
		if d < 1 || d > 3 {
			t.Fatalf("Backoff(1) = %v, outside [1ns, 3ns]", d)
		}
		seen[d] = true
	}
	if !seen[1] || !seen[3] {
		t.Errorf("300 draws gave %v, want both 1ns and 3ns among them", seen)
	}
	tiny := RetryPolicy{InitialBackoff: 1, MaxBackoff: 1} // range [0, 1ns]
	for range 10 {
		if d := tiny.Backoff(1); d < 0 || d > 1 {
			t.Fatalf("Backoff(1) = %v, outside [0, 1ns]", d)
		}
	}
}
