package pagecallredis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/pplink/pagecall-go/webhook"
	"github.com/redis/go-redis/v9"
)

// dedupPrefix starts the keys of NewDeduplicator.
const dedupPrefix = "pagecall:webhook:"

// DedupOption configures NewDeduplicator.
type DedupOption func(*deduplicator)

// WithLease sets how long a claim holds when its process neither finishes
// nor releases it (it died): then the event runs again
// (webhook.DefaultLease, a minute, by default). It should exceed the time
// the handler's fn takes.
func WithLease(d time.Duration) DedupOption {
	return func(x *deduplicator) {
		if d > 0 {
			x.lease = d
		}
	}
}

// WithDedupTimeout bounds each Redis operation of the deduplicator
// (DefaultTimeout by default).
func WithDedupTimeout(d time.Duration) DedupOption {
	return func(x *deduplicator) {
		if d > 0 {
			x.timeout = d
		}
	}
}

// NewDeduplicator returns a webhook.Deduplicator that shares its claims
// through rdb: with webhook.WithDeduplicator, fn runs once per event across
// every process that uses the same Redis. A claim is a key set only if
// absent, with the lease as its expiry; a handled event is a key kept for
// ttl (which should exceed the time over which Pagecall repeats a
// delivery). Each step is one round trip. When Redis fails, the handler
// runs fn anyway and logs a warning: deliveries are handled at least once.
func NewDeduplicator(rdb redis.UniversalClient, ttl time.Duration, opts ...DedupOption) webhook.Deduplicator {
	d := &deduplicator{rdb: rdb, ttl: ttl, lease: webhook.DefaultLease, timeout: DefaultTimeout}
	for _, o := range opts {
		o(d)
	}
	return d
}

type deduplicator struct {
	rdb        redis.UniversalClient
	ttl, lease time.Duration
	timeout    time.Duration
}

// keys returns the claim and done keys of id: a hash, so that the
// delivery's text never becomes a key as it is, and every key is short.
func (d *deduplicator) keys(id webhook.EventID) (claim, done string) {
	sum := sha256.Sum256([]byte(id.Action + "\x00" + id.SessionID))
	h := dedupPrefix + hex.EncodeToString(sum[:16])
	return h + ":claim", h + ":done"
}

// claimScript: 2 when the event is done, 1 when this call claimed it, 0
// when another holds the claim.
var claimScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`)

// doneScript marks the event done for ARGV[2] ms and drops the claim if
// it is still ARGV[1]'s.
var doneScript = redis.NewScript(`
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// releaseScript drops the claim if it is still ARGV[1]'s.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

func (d *deduplicator) run(ctx context.Context, s *redis.Script, id webhook.EventID, args ...any) (int64, error) {
	claim, done := d.keys(id)
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	n, err := s.Run(ctx, d.rdb, []string{claim, done}, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return n, nil
}

// Claim implements webhook.Deduplicator.
func (d *deduplicator) Claim(ctx context.Context, id webhook.EventID) (string, webhook.ClaimState, error) {
	token := webhook.NewToken()
	n, err := d.run(ctx, claimScript, id, token, d.lease.Milliseconds())
	switch {
	case err != nil:
		return "", 0, err
	case n == 2:
		return "", webhook.Handled, nil
	case n == 1:
		return token, webhook.Claimed, nil
	}
	return "", webhook.Running, nil
}

// Done implements webhook.Deduplicator.
func (d *deduplicator) Done(ctx context.Context, id webhook.EventID, token string) error {
	_, err := d.run(ctx, doneScript, id, token, max(d.ttl.Milliseconds(), 1))
	return err
}

// Release implements webhook.Deduplicator.
func (d *deduplicator) Release(ctx context.Context, id webhook.EventID, token string) error {
	_, err := d.run(ctx, releaseScript, id, token)
	return err
}
