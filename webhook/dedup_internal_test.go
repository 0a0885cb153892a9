package webhook

import (
	"context"
	"testing"
	"time"
)

func TestMemoryClaimExpiresAfterTheLease(t *testing.T) {
	t.Parallel()
	d := NewMemoryDeduplicator(24 * time.Hour)
	now := time.Unix(1_000_000, 0)
	d.now = func() time.Time { return now }
	id := EventID{SessionID: "s", Action: "a"}
	if _, st, _ := d.Claim(context.Background(), id); st != Claimed {
		t.Fatalf("first claim: %v", st)
	}
	now = now.Add(DefaultLease - time.Second)
	if _, st, _ := d.Claim(context.Background(), id); st != Running {
		t.Fatalf("within the lease: %v, want Running", st)
	}
	now = now.Add(2 * time.Second) // its holder died
	if _, st, _ := d.Claim(context.Background(), id); st != Claimed {
		t.Fatalf("after the lease (ttl a day): %v, want Claimed", st)
	}
}

func TestMemoryReleaseWithAStaleTokenKeepsTheNewClaim(t *testing.T) {
	t.Parallel()
	d := NewMemoryDeduplicator(24 * time.Hour)
	now := time.Unix(1_000_000, 0)
	d.now = func() time.Time { return now }
	id := EventID{SessionID: "s", Action: "a"}
	old, _, _ := d.Claim(context.Background(), id)
	now = now.Add(DefaultLease + time.Second) // the old holder's lease ended
	if _, st, _ := d.Claim(context.Background(), id); st != Claimed {
		t.Fatalf("claim after the lease: %v", st)
	}
	_ = d.Release(context.Background(), id, old) // the old holder wakes up
	if _, st, _ := d.Claim(context.Background(), id); st != Running {
		t.Fatalf("after a stale token's release: %v, want Running (the new claim kept)", st)
	}
}
