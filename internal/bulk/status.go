package bulk

import (
	"context"
	"sync/atomic"

	"github.com/pplink/pagecall-go"
)

// StatusHooks returns the client hooks through which Run learns the status
// of every answer a deletion gets. Give them to the client that Run uses
// (pagecall.WithHooks), so that a record keeps the status of the last
// answer that came even when a later attempt got none: after a 503 and
// then a timeout, the call's error and ResponseInfo describe only the
// timeout. Without them such a record has no status.
func StatusHooks() pagecall.Hooks {
	return pagecall.Hooks{AttemptEnd: func(ctx context.Context, a pagecall.AttemptEnd) {
		if s, ok := ctx.Value(lastStatusKey{}).(*atomic.Int64); ok && a.StatusCode != 0 {
			s.Store(int64(a.StatusCode))
		}
	}}
}

// lastStatusKey is the context key of the *atomic.Int64 that StatusHooks
// fills with the status of a call's last answer.
type lastStatusKey struct{}

// withLastStatus returns ctx carrying a fresh status for StatusHooks to
// fill, and that status.
func withLastStatus(ctx context.Context) (context.Context, *atomic.Int64) {
	s := new(atomic.Int64)
	return context.WithValue(ctx, lastStatusKey{}, s), s
}
