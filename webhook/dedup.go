package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// DefaultLease is how long a claim on an event holds when its holder
// neither finishes nor releases it (a process that died): then the event
// runs again. It should exceed the time fn takes.
const DefaultLease = time.Minute

// EventID identifies one event: a session's join, or its leave.
type EventID struct {
	SessionID string
	Action    string
}

// IDOf returns the identity of ev.
func IDOf(ev Event) EventID { return EventID{SessionID: ev.Payload.SessionID, Action: ev.Action} }

// ClaimState is what Deduplicator.Claim found.
type ClaimState int

const (
	// Claimed: the event is this delivery's to run; finish with Done or
	// Release.
	Claimed ClaimState = iota
	// Running: another delivery of the event holds the claim and has not
	// finished.
	Running
	// Handled: the event ran to the end before.
	Handled
)

// Deduplicator records which events are being handled and which are done,
// so that fn runs once per EventID across every handler that shares it.
// Its methods are bounded in time; an error means it could not be reached,
// and the handler then runs fn anyway (at least once rather than never).
type Deduplicator interface {
	// Claim reserves id for one delivery, for the lease, unless another
	// holds it or it is done. token identifies the claim to Done and
	// Release.
	Claim(ctx context.Context, id EventID) (token string, state ClaimState, err error)
	// Done records that id ran to the end, and drops the claim token.
	Done(ctx context.Context, id EventID, token string) error
	// Release drops the claim token without marking id done, so that the
	// next delivery runs it again. A claim taken since by another (after
	// the lease) is left alone.
	Release(ctx context.Context, id EventID, token string) error
}

// WithDeduplicator makes NewHandler run fn at most once per EventID among
// all handlers that share d, and answer the other deliveries: 200 for an
// event already handled, 503 with Retry-After for one still running (see
// the package documentation's table). ParseRequest ignores it.
func WithDeduplicator(d Deduplicator) Option {
	return func(c *config) { c.dedup = d }
}

// NewToken returns a random claim token (128 bits, hex) for Deduplicator
// implementations.
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand's documented contract)
	return hex.EncodeToString(b[:])
}

// MemoryDeduplicator is a Deduplicator for the handlers of one process.
// Done events are remembered for ttl, claims for the lease. Safe for
// concurrent use.
type MemoryDeduplicator struct {
	ttl, lease time.Duration
	now        func() time.Time

	mu      sync.Mutex
	entries map[EventID]memEntry
	sweep   time.Time // when expired entries are next removed
}

type memEntry struct {
	token   string // empty once done
	expires time.Time
}

// NewMemoryDeduplicator returns a MemoryDeduplicator that remembers a
// handled event for ttl and a claim for DefaultLease. ttl should exceed
// the time over which the sender repeats a delivery (a day is plenty).
func NewMemoryDeduplicator(ttl time.Duration) *MemoryDeduplicator {
	return &MemoryDeduplicator{ttl: ttl, lease: DefaultLease, now: time.Now, entries: map[EventID]memEntry{}}
}

// Claim implements Deduplicator.
func (m *MemoryDeduplicator) Claim(_ context.Context, id EventID) (string, ClaimState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.removeExpired(now)
	if e, ok := m.entries[id]; ok && now.Before(e.expires) {
		if e.token == "" {
			return "", Handled, nil
		}
		return "", Running, nil
	}
	tok := NewToken()
	m.entries[id] = memEntry{token: tok, expires: now.Add(m.lease)}
	return tok, Claimed, nil
}

// Done implements Deduplicator.
func (m *MemoryDeduplicator) Done(_ context.Context, id EventID, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[id] = memEntry{expires: m.now().Add(m.ttl)}
	return nil
}

// Release implements Deduplicator.
func (m *MemoryDeduplicator) Release(_ context.Context, id EventID, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[id]; ok && e.token == token {
		delete(m.entries, id)
	}
	return nil
}

// removeExpired drops expired entries, at most once per lease, so that
// memory stays bounded by the events of the last ttl.
func (m *MemoryDeduplicator) removeExpired(now time.Time) {
	if now.Before(m.sweep) {
		return
	}
	for id, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, id)
		}
	}
	m.sweep = now.Add(m.lease)
}
