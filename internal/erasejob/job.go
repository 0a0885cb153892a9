// Package erasejob runs one bulk erasure as a job shared through Redis, so
// that processes on several machines work on it together and any of them
// may die without losing an ID.
//
// The job lives under keys with the prefix pagecall:erase:{NAME}: (the
// braces keep every key of a job in one Redis Cluster slot, as its Lua
// scripts need):
//
//   - meta, a hash: the fingerprint of the input, how far the load got,
//     and counters (IDs, duplicates, final records per outcome, re-sends);
//   - ids, a stream with the consumer group "workers": one entry per
//     unique ID still to be done, with its input line;
//   - records, a hash from ID to its final record: "" from the load until
//     the ID is done, then the record (JSON). Setting it is what makes an
//     ID done, exactly once;
//   - workers, a sorted set: each worker's last heartbeat.
//
// A worker reads entries with XREADGROUP, and takes over the entries that
// a dead worker held for longer than the claim delay with XAUTOCLAIM. It
// records an ID's final record, acknowledges and deletes its entry in one
// script, so that a record is written once and an entry is never done
// twice. Only the IDs in flight in a worker that dies are sent again.
//
// Redis Streams with consumer groups are the engine: the package adds the
// idempotent load, the one-record rule and the status, not a queue of its
// own.
package erasejob

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Errors for errors.Is.
var (
	// ErrNoJob: no job of that name exists in Redis.
	ErrNoJob = errors.New("erasejob: no such job")
	// ErrOtherIDs: the job exists, loaded from other IDs.
	ErrOtherIDs = errors.New("erasejob: the job was loaded from other IDs")
	// ErrOtherTarget: the job exists, for another API (base URL or key).
	ErrOtherTarget = errors.New("erasejob: the job deletes through another API base URL or key")
	// ErrBadName: the job name cannot name keys.
	ErrBadName = errors.New("erasejob: bad job name")
	// ErrLoading: the job's load is not finished.
	ErrLoading = errors.New("erasejob: the job is still loading")
	// ErrLoadStalled: the load is not finished and its loader is gone.
	ErrLoadStalled = errors.New("erasejob: the load stopped before the end")
)

// Outcomes the job counts. The records themselves are the caller's; only
// their outcome is counted.
const (
	OutcomeDeleted = "deleted"
	OutcomeFailed  = "failed"
	OutcomeInvalid = "invalid"
)

// group is the stream's consumer group.
const group = "workers"

// maxName bounds a job name.
const maxName = 128

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Job is one erasure job in Redis. Its methods may be called from several
// goroutines.
type Job struct {
	rdb  redis.UniversalClient
	name string
	keys keys
}

// keys are the Redis keys of one job.
type keys struct {
	meta, ids, records, workers string
}

// New returns the job name in rdb. It sends nothing: a job that does not
// exist is reported by the method that needs it. name is letters, digits,
// '.', '_' and '-', starting with a letter or digit, at most 128 bytes.
func New(rdb redis.UniversalClient, name string) (*Job, error) {
	if len(name) > maxName || !validName.MatchString(name) {
		return nil, fmt.Errorf("%w %q: use letters, digits, '.', '_' and '-' (at most %d), starting with a letter or digit", ErrBadName, name, maxName)
	}
	p := "pagecall:erase:{" + name + "}:"
	return &Job{rdb: rdb, name: name, keys: keys{
		meta:    p + "meta",
		ids:     p + "ids",
		records: p + "records",
		workers: p + "workers",
	}}, nil
}

// Name is the job's name.
func (j *Job) Name() string { return j.name }

// Keys returns the Redis keys that hold the job, for an operator who
// deletes it once it is exported.
func (j *Job) Keys() []string {
	return []string{j.keys.meta, j.keys.ids, j.keys.records, j.keys.workers}
}

// nowMS is Lua that sets the local ms to Redis's clock in milliseconds:
// the times of a job come from Redis, not from the clocks of its workers'
// machines, which may differ.
const nowMS = `local t = redis.call('TIME'); local ms = t[1] * 1000 + math.floor(t[2] / 1000)
`

// meta is the job's meta hash, decoded.
type meta struct {
	exists      bool
	fingerprint string
	target      string
	lines       int64 // the last input line loaded
	ids         int64 // unique IDs loaded (queued or recorded invalid)
	duplicates  int64
	loaded      bool // the whole input is loaded
	final       int64
	resent      int64
	outcomes    map[string]int64
	loaderSeen  time.Time
	created     time.Time
	now         time.Time // Redis's clock when read: every time of a job is Redis's
}

// done reports whether every ID of the job has its final record.
func (m meta) done() bool { return m.loaded && m.final >= m.ids }

// readMeta reads the meta hash.
func (j *Job) readMeta(ctx context.Context) (meta, error) {
	var all *redis.MapStringStringCmd
	var now *redis.TimeCmd
	_, err := j.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		all, now = p.HGetAll(ctx, j.keys.meta), p.Time(ctx)
		return nil
	})
	if err != nil {
		return meta{}, err
	}
	h := all.Val()
	m := meta{exists: len(h) > 0, outcomes: map[string]int64{}, now: now.Val()}
	num := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	m.fingerprint, m.target = h["fp"], h["target"]
	m.lines, m.ids, m.duplicates = num("lines"), num("ids"), num("dups")
	m.loaded = h["loaded"] == "1"
	m.final, m.resent = num("final"), num("resent")
	for k := range h {
		if o, ok := strings.CutPrefix(k, "n:"); ok {
			m.outcomes[o] = num(k)
		}
	}
	if ms := num("loader_seen"); ms > 0 {
		m.loaderSeen = time.UnixMilli(ms)
	}
	if ms := num("created"); ms > 0 {
		m.created = time.UnixMilli(ms)
	}
	return m, nil
}
