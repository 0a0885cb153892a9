package erasejob

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Item is one ID handed to a worker.
type Item struct {
	// Line is the ID's line in the input.
	Line int64
	// ID is the user ID.
	ID string
	// Redelivered: the worker took the ID over from another worker that
	// held it longer than the claim delay, most likely because it died.
	// That worker may have sent the DELETE already.
	Redelivered bool

	entry string // the stream entry
}

// Final is an ID's final record, as the worker's Delete makes it.
type Final struct {
	// Outcome is counted in the job's status, e.g. OutcomeDeleted.
	Outcome string
	// Resent: the DELETE was most likely sent before, by a worker that
	// died (see Item.Redelivered); counted in the status.
	Resent bool
	// Record is the record as one line of JSON, without a line end.
	Record []byte
}

// WorkOptions configure Work.
type WorkOptions struct {
	// Consumer names this worker in the consumer group; unique per
	// process (see ConsumerName).
	Consumer string
	// Concurrency is the number of IDs in flight at once (default 1).
	Concurrency int
	// ClaimAfter is how long an ID may stay with a worker that sends no
	// heartbeat before another worker takes it over (default 30s).
	ClaimAfter time.Duration
	// Target must be the job's (see Target).
	Target string
	// Delete deletes one ID and returns its final record, or ok false if
	// the ID has none yet (an aborted request, whose effect is unknown):
	// such an ID stays with the job, and another worker takes it over.
	// It is called from Concurrency goroutines at once.
	Delete func(ctx context.Context, it Item) (f Final, ok bool)
	// OnFinal, if set, is told of each final record this worker made,
	// one call at a time; recorded is false if the ID already had one
	// (two workers did the same ID: only the first record counts).
	OnFinal func(it Item, f Final, recorded bool)
	// Stop, once closed, makes the worker take no new ID, finish those in
	// flight and return.
	Stop <-chan struct{}
	// Poll bounds each wait for new IDs (default 1s).
	Poll time.Duration
}

// WorkResult is what one worker did.
type WorkResult struct {
	// Done: every ID of the job has its final record.
	Done bool
	// Recorded counts the final records this worker wrote, by outcome.
	Recorded map[string]int64
	// Superseded counts the IDs this worker finished whose record
	// another worker had written first.
	Superseded int64
	// Resent counts this worker's records marked as re-sends.
	Resent int64
}

// ConsumerName returns a consumer name for this process: its host name
// and process ID, and random bytes so that a restarted process with the
// same PID is a new consumer.
func ConsumerName(host string, pid int, random string) string {
	return host + "-" + strconv.Itoa(pid) + "-" + random
}

// finishScript records an ID's final record unless it has one, and
// acknowledges and deletes its entry, in one step: a record is written
// once, and an entry acknowledged is never handed out again.
//
// KEYS: records, ids, meta. ARGV: group, entry, ID, record, outcome,
// resent ("1" or "0"). Returns 1 if the record was written.
var finishScript = redis.NewScript(`
local wrote = 0
if redis.call('HGET', KEYS[1], ARGV[3]) == '' then
  redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
  redis.call('HINCRBY', KEYS[3], 'n:' .. ARGV[5], 1)
  redis.call('HINCRBY', KEYS[3], 'final', 1)
  if ARGV[6] == '1' then redis.call('HINCRBY', KEYS[3], 'resent', 1) end
  wrote = 1
end
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return wrote
`)

// seenScript records a worker's heartbeat, at Redis's time.
//
// KEYS: workers. ARGV: consumer.
var seenScript = redis.NewScript(nowMS + `
redis.call('ZADD', KEYS[1], ms, ARGV[1])
return ms
`)

// keepScript resets the idle time of the entries that this consumer still
// holds, so that no other worker takes over an ID that is merely slow. An
// entry that another worker took over already is left to it.
//
// KEYS: ids. ARGV: group, consumer, entries... Returns the number kept.
var keepScript = redis.NewScript(`
local n = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    n = n + 1
  end
end
return n
`)

// worker is the state of one Work call.
type worker struct {
	j *Job
	o WorkOptions

	mu       sync.Mutex
	inFlight map[string]bool // stream entries held
	res      WorkResult

	cursor    string // XAUTOCLAIM's
	lastClaim time.Time
}

// Work takes IDs from the job and deletes them, o.Concurrency at a time,
// until every ID of the job has its final record, o.Stop is closed or ctx
// is cancelled. It returns ErrNoJob if the job does not exist,
// ErrOtherTarget if it deletes from another API, and ErrLoadStalled if it
// runs out of IDs while the load is unfinished and its loader has not been
// seen for the claim delay.
func (j *Job) Work(ctx context.Context, o WorkOptions) (WorkResult, error) {
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.ClaimAfter <= 0 {
		o.ClaimAfter = 30 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Consumer == "" || o.Delete == nil {
		return WorkResult{}, errors.New("erasejob: Work needs a Consumer and a Delete")
	}
	m, err := j.readMeta(ctx)
	switch {
	case err != nil:
		return WorkResult{}, fmt.Errorf("erasejob: job %s: %w", j.name, err)
	case !m.exists:
		return WorkResult{}, fmt.Errorf("%w: %s", ErrNoJob, j.name)
	case m.target != o.Target:
		return WorkResult{}, fmt.Errorf("%w: job %s", ErrOtherTarget, j.name)
	}
	w := &worker{j: j, o: o, inFlight: map[string]bool{}, cursor: "0-0",
		res: WorkResult{Recorded: map[string]int64{}}}

	hbCtx, stopHB := context.WithCancel(context.WithoutCancel(ctx))
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); w.heartbeat(hbCtx) }()
	defer func() {
		stopHB()
		<-hbDone
		// A worker that left is not one "seen recently".
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		j.rdb.ZRem(bg, j.keys.workers, o.Consumer)
	}()

	err = w.run(ctx)
	return w.res, err
}

// run hands out IDs until the job is done or the worker is stopped.
func (w *worker) run(ctx context.Context) error {
	slots := make(chan struct{}, w.o.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	var failingSince time.Time
	backoff := 50 * time.Millisecond
	for {
		if stopped(w.o.Stop) || ctx.Err() != nil {
			return nil
		}
		// Take a slot, then as many more as are free.
		select {
		case slots <- struct{}{}:
		case <-w.o.Stop:
			return nil
		case <-ctx.Done():
			return nil
		}
		free := 1
		for free < w.o.Concurrency && tryAcquire(slots) {
			free++
		}
		items, err := w.fetch(ctx, free)
		for range free - len(items) {
			<-slots
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Redis failing: wait and try again, within a bound.
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(failingSince) > max(w.o.ClaimAfter, 30*time.Second) {
				return fmt.Errorf("erasejob: job %s: %w", w.j.name, err)
			}
			sleep(ctx, w.o.Stop, backoff)
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		failingSince, backoff = time.Time{}, 50*time.Millisecond
		for _, it := range items {
			w.hold(it.entry, true)
			wg.Go(func() {
				defer func() { <-slots }()
				w.do(ctx, it)
			})
		}
		if len(items) > 0 {
			continue
		}
		m, err := w.j.readMeta(ctx)
		if err != nil {
			continue // the next fetch retries within the bound
		}
		if m.done() {
			w.mu.Lock()
			w.res.Done = true
			w.mu.Unlock()
			return nil
		}
		if !m.exists {
			return fmt.Errorf("%w: %s (deleted while it ran)", ErrNoJob, w.j.name)
		}
		if silent := m.now.Sub(m.loaderSeen); !m.loaded && silent > max(w.o.ClaimAfter, 10*time.Second) && w.held() == 0 {
			return fmt.Errorf("%w: job %s is loaded up to line %d, and its loader was last seen %v ago; run the command with --file again to finish the load",
				ErrLoadStalled, w.j.name, m.lines, silent.Round(time.Second))
		}
	}
}

// fetch returns up to n IDs: first those that another worker held past
// the claim delay, else new ones (waiting up to Poll for them).
func (w *worker) fetch(ctx context.Context, n int) ([]Item, error) {
	if time.Since(w.lastClaim) >= max(w.o.ClaimAfter/4, 50*time.Millisecond) {
		msgs, next, err := w.j.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: w.j.keys.ids, Group: group, Consumer: w.o.Consumer,
			MinIdle: w.o.ClaimAfter, Start: w.cursor, Count: int64(n),
		}).Result()
		if err != nil {
			return nil, err
		}
		w.cursor = next
		if next == "0-0" || next == "" {
			w.cursor = "0-0"
			w.lastClaim = time.Now() // a whole pass done: rest a while
		}
		if len(msgs) > 0 {
			return items(msgs, true), nil
		}
	}
	streams, err := w.j.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: group, Consumer: w.o.Consumer, Streams: []string{w.j.keys.ids, ">"},
		Count: int64(n), Block: w.o.Poll,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, s := range streams {
		out = append(out, items(s.Messages, false)...)
	}
	return out, nil
}

// items decodes stream entries.
func items(msgs []redis.XMessage, redelivered bool) []Item {
	out := make([]Item, 0, len(msgs))
	for _, m := range msgs {
		id, _ := m.Values["id"].(string)
		line, _ := m.Values["line"].(string)
		n, _ := strconv.ParseInt(line, 10, 64)
		out = append(out, Item{Line: n, ID: id, Redelivered: redelivered, entry: m.ID})
	}
	return out
}

// do deletes one ID and records its final record.
func (w *worker) do(ctx context.Context, it Item) {
	defer w.hold(it.entry, false)
	f, ok := w.o.Delete(ctx, it)
	if !ok {
		return // stays pending: taken over after the claim delay
	}
	// The DELETE is done: record it even if the run is being aborted,
	// for as long as a worker would wait before taking the ID over.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.o.ClaimAfter)
	defer cancel()
	resent := "0"
	if f.Resent {
		resent = "1"
	}
	var wrote int64
	err := retry(rctx, func() error {
		var err error
		wrote, err = finishScript.Run(rctx, w.j.rdb, []string{w.j.keys.records, w.j.keys.ids, w.j.keys.meta},
			group, it.entry, it.ID, f.Record, f.Outcome, resent).Int64()
		return err
	})
	if err != nil {
		return // not recorded: another worker takes the ID over, and re-sends it
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if wrote == 1 {
		w.res.Recorded[f.Outcome]++
		if f.Resent {
			w.res.Resent++
		}
	} else {
		w.res.Superseded++
	}
	if w.o.OnFinal != nil {
		w.o.OnFinal(it, f, wrote == 1)
	}
}

// hold marks a stream entry as held (in flight) or released.
func (w *worker) hold(entry string, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if on {
		w.inFlight[entry] = true
	} else {
		delete(w.inFlight, entry)
	}
}

// held returns the number of entries in flight.
func (w *worker) held() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.inFlight)
}

// heartbeat tells the job this worker is alive, and keeps its entries in
// flight from being taken over, every third of the claim delay.
func (w *worker) heartbeat(ctx context.Context) {
	every := min(max(w.o.ClaimAfter/3, 20*time.Millisecond), 5*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		bctx, cancel := context.WithTimeout(ctx, every)
		seenScript.Run(bctx, w.j.rdb, []string{w.j.keys.workers}, w.o.Consumer)
		w.mu.Lock()
		args := make([]any, 0, 2+len(w.inFlight))
		args = append(args, group, w.o.Consumer)
		for e := range w.inFlight {
			args = append(args, e)
		}
		w.mu.Unlock()
		if len(args) > 2 {
			keepScript.Run(bctx, w.j.rdb, []string{w.j.keys.ids}, args...)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// retry calls fn until it succeeds or ctx ends, backing off up to 1s.
func retry(ctx context.Context, fn func() error) error {
	wait := 20 * time.Millisecond
	for {
		err := fn()
		if err == nil || ctx.Err() != nil {
			return err
		}
		sleep(ctx, nil, wait)
		wait = min(2*wait, time.Second)
	}
}

// sleep waits d, or less if ctx ends or stop closes.
func sleep(ctx context.Context, stop <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-stop:
	}
}

func tryAcquire(slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func stopped(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
