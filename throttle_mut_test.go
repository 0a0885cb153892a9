package pagecall

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// TestPauseHoldNothing: a Retry-After of zero or less, or a cause that is
// not an *APIError, holds no pause: the client does not report one
// (PausedUntil stays zero). (Found by gremlins: a zero wait recorded as a
// pause ending now passed every test.)
func TestPauseHoldNothing(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name  string
		wait  time.Duration
		cause error
	}{
		{"zero wait", 0, &APIError{StatusCode: 429}},
		{"negative wait", -time.Second, &APIError{StatusCode: 429}},
		{"not an APIError", time.Second, errors.New("boom")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p pause
			p.hold(context.Background(), log, tc.wait, time.Minute, tc.cause)
			if until, cause := p.state(); !until.IsZero() || cause != nil {
				t.Errorf("hold(%v, %v): pause until %v for %v, want none", tc.wait, tc.cause, until, cause)
			}
			if end := p.end.Load(); end != 0 {
				t.Errorf("hold(%v, %v): end %d, want 0", tc.wait, tc.cause, end)
			}
		})
	}
}
