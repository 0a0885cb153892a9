//go:build !anyspec

package pagecallredis

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/webhook"
	"github.com/redis/go-redis/v9"
)

func TestDeduplicatorClaimDoneRelease(t *testing.T) {
	_, rdb := newMini(t)
	d := NewDeduplicator(rdb, time.Hour, WithDedupTimeout(time.Second))
	ctx := context.Background()
	id := webhook.EventID{SessionID: "s1", Action: webhook.ActionSessionJoined}
	tok, st, err := d.Claim(ctx, id)
	if err != nil || st != webhook.Claimed || tok == "" {
		t.Fatalf("first claim = %q, %v, %v; want a token, Claimed", tok, st, err)
	}
	if _, st, _ := d.Claim(ctx, id); st != webhook.Running {
		t.Fatalf("claim while held = %v, want Running", st)
	}
	if _, st, _ := d.Claim(ctx, webhook.EventID{SessionID: "s1", Action: webhook.ActionSessionLeft}); st != webhook.Claimed {
		t.Fatalf("the same session's other action = %v, want Claimed", st)
	}
	if err := d.Release(ctx, id, tok); err != nil {
		t.Fatal(err)
	}
	tok2, st, _ := d.Claim(ctx, id)
	if st != webhook.Claimed {
		t.Fatalf("claim after a release = %v, want Claimed", st)
	}
	if err := d.Release(ctx, id, tok); err != nil { // the old token
		t.Fatal(err)
	}
	if _, st, _ := d.Claim(ctx, id); st != webhook.Running {
		t.Fatalf("a stale token released another's claim: %v", st)
	}
	if err := d.Done(ctx, id, tok2); err != nil {
		t.Fatal(err)
	}
	if _, st, _ := d.Claim(ctx, id); st != webhook.Handled {
		t.Fatalf("claim after done = %v, want Handled", st)
	}
}

func TestDeduplicatorLeaseAndTTLExpire(t *testing.T) {
	m, rdb := newMini(t)
	d := NewDeduplicator(rdb, time.Hour, WithLease(10*time.Second), WithDedupTimeout(time.Second))
	ctx := context.Background()
	id := webhook.EventID{SessionID: "s1", Action: webhook.ActionSessionJoined}
	if _, st, _ := d.Claim(ctx, id); st != webhook.Claimed {
		t.Fatal(st)
	}
	m.FastForward(11 * time.Second) // its process died
	tok, st, _ := d.Claim(ctx, id)
	if st != webhook.Claimed {
		t.Fatalf("claim after the lease = %v, want Claimed", st)
	}
	_ = d.Done(ctx, id, tok)
	m.FastForward(59 * time.Minute)
	if _, st, _ := d.Claim(ctx, id); st != webhook.Handled {
		t.Fatalf("within the ttl = %v, want Handled", st)
	}
	m.FastForward(2 * time.Minute)
	if _, st, _ := d.Claim(ctx, id); st != webhook.Claimed {
		t.Fatalf("after the ttl = %v, want Claimed", st)
	}
}

func TestDeduplicatorKeysHoldNoDeliveryText(t *testing.T) {
	m, rdb := newMini(t)
	d := NewDeduplicator(rdb, time.Hour, WithDedupTimeout(time.Second))
	id := webhook.EventID{SessionID: "session-with-secret-looking-text", Action: "sessionJoined"}
	tok, _, _ := d.Claim(context.Background(), id)
	_ = d.Done(context.Background(), id, tok)
	for _, k := range m.Keys() {
		if len(k) > 64 || strings.Contains(k, id.SessionID) || strings.Contains(k, id.Action) {
			t.Errorf("key %q holds the delivery's text or is long", k)
		}
	}
}

func TestDeduplicatorRedisDown(t *testing.T) {
	m, rdb := newMini(t)
	m.Close()
	d := NewDeduplicator(rdb, time.Hour, WithDedupTimeout(100*time.Millisecond))
	if _, _, err := d.Claim(context.Background(), webhook.EventID{SessionID: "s"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Claim with Redis down = %v, want ErrUnavailable", err)
	}
}

func TestDeduplicatorSlowRedisIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true, MaxRetries: -1, Protocol: 2})
	defer rdb.Close()
	d := NewDeduplicator(rdb, time.Hour, WithDedupTimeout(50*time.Millisecond))
	start := time.Now()
	if _, _, err := d.Claim(context.Background(), webhook.EventID{SessionID: "s"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Claim on a Redis that never answers = %v, want ErrUnavailable", err)
	}
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Fatalf("Claim on a Redis that never answers took %v, want about the 50 ms timeout", el)
	}
}
