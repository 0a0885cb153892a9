//go:build !anyspec

package erasejob

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// fakeAPI is a Delete that counts the DELETEs per ID, like an API whose
// users exist once: the first DELETE of an ID deletes it, a later one is
// told "not found".
type fakeAPI struct {
	mu    sync.Mutex
	sent  map[string]int
	delay time.Duration
}

func newFakeAPI() *fakeAPI { return &fakeAPI{sent: map[string]int{}} }

func (a *fakeAPI) Delete(ctx context.Context, it Item) (Final, bool) {
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-ctx.Done():
			return Final{}, false
		}
	}
	a.mu.Lock()
	a.sent[it.ID]++
	gone := a.sent[it.ID] > 1
	a.mu.Unlock()
	f := Final{Outcome: OutcomeDeleted}
	switch {
	case gone && it.Redelivered:
		f.Resent = true
	case gone:
		f.Outcome = OutcomeFailed
	}
	f.Record, _ = json.Marshal(map[string]any{"id": it.ID, "outcome": f.Outcome, "resent": f.Resent})
	return f, true
}

func (a *fakeAPI) count(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sent[id]
}

// work runs one worker to the end.
func work(t *testing.T, j *Job, name string, o WorkOptions) WorkResult {
	t.Helper()
	o.Consumer, o.Target = name, "t"
	if o.Poll == 0 {
		o.Poll = 50 * time.Millisecond
	}
	res, err := j.Work(t.Context(), o)
	if err != nil {
		t.Errorf("worker %s: %v", name, err)
	}
	return res
}

// records returns the job's final records by ID, failing on an ID
// exported twice.
func records(t *testing.T, j *Job) map[string]map[string]any {
	t.Helper()
	var buf bytes.Buffer
	n, unfinished, err := j.Export(t.Context(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		id, _ := r["id"].(string)
		if _, dup := out[id]; dup {
			t.Fatalf("two records for %s", id)
		}
		out[id] = r
	}
	if int64(len(out)) != n {
		t.Errorf("Export said %d records, wrote %d", n, len(out))
	}
	if unfinished != 0 {
		t.Errorf("Export: %d IDs unfinished", unfinished)
	}
	return out
}

// TestWorkersShareTheJob: three workers on one job send each ID once and
// leave exactly one final record per ID; each stops when the job is done.
func TestWorkersShareTheJob(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			j := newJob(t, b.rdb)
			ids := numbered("w", 300)
			load(t, j, input(ids...), 50)
			api := newFakeAPI()
			var wg sync.WaitGroup
			results := make([]WorkResult, 3)
			for i := range results {
				wg.Go(func() {
					results[i] = work(t, j, fmt.Sprint("worker-", i), WorkOptions{Concurrency: 4, ClaimAfter: 5 * time.Second, Delete: api.Delete})
				})
			}
			wg.Wait()
			var total int64
			for i, r := range results {
				if !r.Done {
					t.Errorf("worker %d returned before the job was done", i)
				}
				total += r.Recorded[OutcomeDeleted]
			}
			if total != int64(len(ids)) {
				t.Errorf("workers recorded %d deletions, want %d", total, len(ids))
			}
			recs := records(t, j)
			for _, id := range ids {
				if n := api.count(id); n != 1 {
					t.Errorf("%s sent %d times, want 1", id, n)
				}
				if recs[id]["outcome"] != OutcomeDeleted {
					t.Errorf("%s: record %v", id, recs[id])
				}
			}
			if s, _ := j.Status(t.Context(), time.Minute); !s.Done() || s.InFlight != 0 || s.Waiting != 0 || len(s.Workers) != 0 {
				t.Errorf("status %+v, want done, nothing left, no worker still seen", s)
			}
			if n := b.rdb.XLen(t.Context(), j.keys.ids).Val(); n != 0 {
				t.Errorf("%d entries left in the stream, want every done entry deleted", n)
			}
		})
	}
}

// TestWorkTakesOverFromADeadWorker: the IDs that a worker took and never
// finished (it died: no heartbeat, no record) are taken over by another
// worker after the claim delay, and not before. Those the dead worker had
// sent are recorded as deleted re-sends; the others as plain deletions.
func TestWorkTakesOverFromADeadWorker(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			j := newJob(t, b.rdb)
			ids := numbered("d", 10)
			load(t, j, input(ids...), 50)
			api := newFakeAPI()
			// The dead worker took 4 IDs and sent DELETEs for 2 of them.
			taken, err := b.rdb.XReadGroup(t.Context(), &redis.XReadGroupArgs{
				Group: group, Consumer: "dead", Streams: []string{j.keys.ids, ">"}, Count: 4,
			}).Result()
			if err != nil {
				t.Fatal(err)
			}
			dead := items(taken[0].Messages, false)
			api.Delete(t.Context(), dead[0])
			api.Delete(t.Context(), dead[1])

			const claimAfter = 600 * time.Millisecond
			start := time.Now()
			var firstTakeover time.Duration
			var mu sync.Mutex
			res := work(t, j, "alive", WorkOptions{Concurrency: 2, ClaimAfter: claimAfter, Delete: api.Delete,
				OnFinal: func(it Item, _ Final, _ bool) {
					mu.Lock()
					defer mu.Unlock()
					if it.Redelivered && firstTakeover == 0 {
						firstTakeover = time.Since(start)
					}
				}})
			if !res.Done || res.Resent != 2 {
				t.Errorf("worker result %+v, want done with 2 re-sends", res)
			}
			if firstTakeover < claimAfter-50*time.Millisecond {
				t.Errorf("took over a dead worker's ID after %v, before the claim delay %v", firstTakeover, claimAfter)
			}
			recs := records(t, j)
			for i, it := range dead {
				want := i < 2
				if recs[it.ID]["outcome"] != OutcomeDeleted || recs[it.ID]["resent"] != want {
					t.Errorf("%s (the dead worker sent it: %v): record %v", it.ID, want, recs[it.ID])
				}
			}
			if s, _ := j.Status(t.Context(), 0); s.Resent != 2 || s.Outcomes[OutcomeDeleted] != 10 {
				t.Errorf("status %+v, want 10 deleted, 2 re-sent", s)
			}
		})
	}
}

// TestWorkKeepsSlowIDs: an ID whose DELETE takes longer than the claim
// delay stays with its live worker (its heartbeat keeps it): another
// worker does not send it again.
func TestWorkKeepsSlowIDs(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			j := newJob(t, b.rdb)
			ids := numbered("s", 4)
			load(t, j, input(ids...), 50)
			const claimAfter = time.Second
			slow := newFakeAPI()
			slow.delay = 5 * claimAfter / 2
			fast := newFakeAPI()
			var wg sync.WaitGroup
			wg.Go(func() {
				work(t, j, "slow", WorkOptions{Concurrency: 4, ClaimAfter: claimAfter, Delete: slow.Delete})
			})
			// The slow worker holds all four before the other starts.
			waitFor(t, func() bool { s, _ := j.Status(t.Context(), 0); return s.InFlight == 4 })
			wg.Go(func() {
				work(t, j, "fast", WorkOptions{Concurrency: 4, ClaimAfter: claimAfter, Delete: fast.Delete})
			})
			wg.Wait()
			for _, id := range ids {
				if slow.count(id) != 1 || fast.count(id) != 0 {
					t.Errorf("%s: sent %d times by the slow worker, %d by the other; want 1 and 0", id, slow.count(id), fast.count(id))
				}
			}
		})
	}
}

// TestWorkLeavesAbortedIDs: an ID whose Delete has no final record (an
// aborted request) gets none: it stays with the job, and the next worker
// takes it over after the claim delay and marks it redelivered.
func TestWorkLeavesAbortedIDs(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			j := newJob(t, b.rdb)
			load(t, j, input("x", "y"), 50)
			ctx, cancel := context.WithCancel(t.Context())
			_, err := j.Work(ctx, WorkOptions{Consumer: "aborted", Target: "t", Poll: 50 * time.Millisecond, Concurrency: 2,
				Delete: func(context.Context, Item) (Final, bool) { cancel(); return Final{}, false }})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := j.Status(t.Context(), 0)
			if s.Final != 0 || s.InFlight+s.Waiting != 2 {
				t.Fatalf("after the abort: %+v, want no record, both IDs to do", s)
			}
			var redelivered []string
			api := newFakeAPI()
			res := work(t, j, "next", WorkOptions{ClaimAfter: 200 * time.Millisecond, Delete: func(ctx context.Context, it Item) (Final, bool) {
				if it.Redelivered {
					redelivered = append(redelivered, it.ID)
				}
				return api.Delete(ctx, it)
			}})
			if !res.Done || res.Recorded[OutcomeDeleted] != 2 {
				t.Errorf("next worker %+v, want both deleted", res)
			}
			if len(redelivered)+int(s.Waiting) != 2 {
				t.Errorf("redelivered %q; want every ID the aborted worker held", redelivered)
			}
		})
	}
}

// TestWorkRefusesWrongJob: a worker of a job that does not exist, or that
// deletes from another API, is refused and changes nothing.
func TestWorkRefusesWrongJob(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			j := newJob(t, b.rdb)
			del := newFakeAPI().Delete
			before := snapshot(t, b, j)
			if _, err := j.Work(t.Context(), WorkOptions{Consumer: "w", Target: "t", Delete: del}); !errors.Is(err, ErrNoJob) {
				t.Errorf("no job: %v, want ErrNoJob", err)
			}
			if after := snapshot(t, b, j); len(after) != len(before) {
				t.Errorf("a worker of no job left keys %v", after)
			}
			load(t, j, input("a"), 10)
			before = snapshot(t, b, j)
			if _, err := j.Work(t.Context(), WorkOptions{Consumer: "w", Target: "other", Delete: del}); !errors.Is(err, ErrOtherTarget) {
				t.Errorf("other API: %v, want ErrOtherTarget", err)
			}
			if after := snapshot(t, b, j); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("Redis changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestWorkStopsWhenLoadStalls: a worker that runs out of IDs while the
// load is unfinished and no loader has been seen for the claim delay
// returns ErrLoadStalled, instead of waiting for ever.
func TestWorkStopsWhenLoadStalls(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			j := newJob(t, b.rdb)
			lines := input("a", "b", "c")
			fp, _ := Fingerprint(lines)
			stop := errors.New("loader died")
			_, err := j.Load(t.Context(), func(fn func(int64, string) error) error {
				return lines(func(n int64, id string) error {
					if n == 3 {
						return stop
					}
					return fn(n, id)
				})
			}, LoadOptions{Fingerprint: fp, Target: "t", Batch: 2})
			if !errors.Is(err, stop) {
				t.Fatal(err)
			}
			// The loader was last seen 11 s ago (past the 10 s floor).
			b.rdb.HSet(t.Context(), j.keys.meta, "loader_seen", time.Now().Add(-11*time.Second).UnixMilli())
			_, err = j.Work(t.Context(), WorkOptions{Consumer: "w", Target: "t", Poll: 50 * time.Millisecond,
				ClaimAfter: 100 * time.Millisecond, Delete: newFakeAPI().Delete})
			if !errors.Is(err, ErrLoadStalled) {
				t.Errorf("Work: %v, want ErrLoadStalled", err)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
