//go:build !anyspec

package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// TestCLIRateIsTheFleets: two CLI processes started with --rate 20 and
// the same --redis send 20 requests a second together, not 40.
func TestCLIRateIsTheFleets(t *testing.T) {
	addr := os.Getenv("PAGECALL_TEST_REDIS")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PAGECALL_TEST_REDIS is not set: CI must run the fleet's tests against a real redis-server (.ci/run starts one)")
		}
		t.Skip("PAGECALL_TEST_REDIS is not set: start a redis-server and set it to host:port (make test-redis)")
	}
	if raceEnabled {
		// Under -race a loaded machine answers Redis later than the CLI's
		// 100 ms bound, and the processes rightly fall back to their own
		// rates: make test-redis runs this without -race.
		t.Skip("a timing measurement of 2 processes: make test-redis runs it without -race")
	}
	srv := pagecalltest.NewTestServer(t) // a new base URL: a fleet of its own in Redis
	const perProcess, rate = 40, 20
	var wg sync.WaitGroup
	for _, who := range []string{"a", "b"} {
		var ids strings.Builder
		for i := range perProcess {
			fmt.Fprintf(&ids, "fleet-%s-%d\n", who, i)
		}
		wg.Go(func() {
			runCLI(t, mockEnv(srv), ids.String(), "users", "delete", "--file", "-", "--rate", fmt.Sprint(rate), "--redis", "redis://"+addr)
		})
	}
	wg.Wait()
	var at []time.Time
	span := map[string][2]time.Time{}
	for _, r := range srv.Requests() {
		at = append(at, r.Time)
		who := "a"
		if strings.Contains(r.Path, "fleet-b-") {
			who = "b"
		}
		s := span[who]
		if s[0].IsZero() || r.Time.Before(s[0]) {
			s[0] = r.Time
		}
		if r.Time.After(s[1]) {
			s[1] = r.Time
		}
		span[who] = s
	}
	slices.SortFunc(at, func(x, y time.Time) int { return x.Compare(y) })
	peak := 0
	for i, j := 0, 0; i < len(at); i++ {
		for j < len(at) && at[j].Sub(at[i]) < time.Second {
			j++
		}
		peak = max(peak, j-i)
	}
	end, begin := span["a"][1], span["a"][0]
	if span["b"][1].Before(end) {
		end = span["b"][1]
	}
	if span["b"][0].After(begin) {
		begin = span["b"][0]
	}
	overlap := end.Sub(begin)
	t.Logf("2 processes with --rate %d --redis, %d IDs each: %d requests, the busiest second %d; they overlapped %v", rate, perProcess, len(at), peak, overlap)
	if len(at) != 2*perProcess {
		t.Fatalf("%d requests, want %d", len(at), 2*perProcess)
	}
	if overlap < time.Second {
		t.Fatalf("the processes overlapped %v: too little to tell a shared rate", overlap)
	}
	// Shared: burst 1 and 20 a second, and 10 % for the jitter of a
	// shared machine; each at its own --rate: up to 40.
	if limit := rate + 1 + rate/10; peak > limit {
		t.Fatalf("a second held %d requests, want at most %d: the processes did not share --rate", peak, limit)
	}
}
