package erasejob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Lines is a job's input: it calls fn with each ID and its line number
// (counting from 1, blank and comment lines included), in input order, and
// returns fn's first error or its own. It must give the same IDs at the
// same lines each time it is called: a load reads it twice (fingerprint,
// then load), and a load resumed after a crash reads it again.
type Lines func(fn func(line int64, id string) error) error

// Fingerprint identifies the IDs of an input, in order: the SHA-256 of
// each ID and line number. Comments, blank lines and white space around
// IDs do not change it as long as the IDs keep their lines.
func Fingerprint(lines Lines) (string, error) {
	h := sha256.New()
	var buf []byte
	err := lines(func(line int64, id string) error {
		buf = strconv.AppendInt(buf[:0], line, 10)
		buf = append(buf, ' ')
		buf = append(buf, id...)
		buf = append(buf, '\n')
		_, err := h.Write(buf)
		return err
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Target identifies the API a job deletes from, without revealing the key:
// a SHA-256 of the base URL and the API key, of which 16 bytes are kept.
// Workers of one job must share it.
func Target(baseURL, apiKey string) string {
	h := sha256.Sum256([]byte("pagecall erasejob target\x00" + baseURL + "\x00" + apiKey))
	return hex.EncodeToString(h[:16])
}

// createScript creates the job, or checks that the one there has the same
// fingerprint and target; it changes nothing when they differ.
//
// KEYS: meta, ids. ARGV: fingerprint, target, group.
// Returns {"created"|"exists"|"other-ids"|"other-target", detail}.
var createScript = redis.NewScript(nowMS + `
local fp = redis.call('HGET', KEYS[1], 'fp')
if fp then
  if fp ~= ARGV[1] then return {'other-ids', fp} end
  if redis.call('HGET', KEYS[1], 'target') ~= ARGV[2] then return {'other-target', ''} end
  return {'exists', ''}
end
redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[3], '0', 'MKSTREAM')
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'target', ARGV[2], 'created', ms,
  'lines', 0, 'ids', 0, 'dups', 0, 'final', 0, 'loaded', 0, 'loader_seen', ms)
return {'created', ''}
`)

// loadScript adds one batch of input lines to the job: each line past the
// last one loaded, whose ID the job does not hold yet, is queued (or, if
// invalid, given its final record at once). A batch is applied whole or
// not at all, so a loader that dies leaves the job at a batch boundary,
// and two loaders of the same input add each line once.
//
// KEYS: meta, ids, records. ARGV: fingerprint, last line of the batch, eof
// ("1" if the batch ends the input), then per line: line number, ID,
// invalid record ("" for a valid ID).
// Returns {queued, duplicates, invalid}.
var loadScript = redis.NewScript(nowMS + `
if redis.call('HGET', KEYS[1], 'fp') ~= ARGV[1] then
  return redis.error_reply('ERASEJOB the job changed during the load')
end
local done = tonumber(redis.call('HGET', KEYS[1], 'lines'))
local queued, dups, invalid = 0, 0, 0
for i = 4, #ARGV, 3 do
  local line = tonumber(ARGV[i])
  if line > done then
    local id, rec = ARGV[i+1], ARGV[i+2]
    if redis.call('HSETNX', KEYS[3], id, rec) == 0 then
      dups = dups + 1
    elseif rec ~= '' then
      invalid = invalid + 1
    else
      redis.call('XADD', KEYS[2], '*', 'line', ARGV[i], 'id', id)
      queued = queued + 1
    end
  end
end
if tonumber(ARGV[2]) > done then
  redis.call('HSET', KEYS[1], 'lines', ARGV[2])
end
redis.call('HINCRBY', KEYS[1], 'ids', queued + invalid)
redis.call('HINCRBY', KEYS[1], 'dups', dups)
if invalid > 0 then
  redis.call('HINCRBY', KEYS[1], 'n:invalid', invalid)
  redis.call('HINCRBY', KEYS[1], 'final', invalid)
end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'loaded', 1) end
redis.call('HSET', KEYS[1], 'loader_seen', ms)
return {queued, dups, invalid}
`)

// LoadOptions configure Load.
type LoadOptions struct {
	// Fingerprint is Fingerprint(lines), computed by the caller so that
	// it can refuse a job of other IDs before anything else.
	Fingerprint string
	// Target is Target(baseURL, apiKey) of the workers' API.
	Target string
	// Invalid returns the final record (JSON) of an ID that must not be
	// sent, or nil for a valid ID.
	Invalid func(line int64, id string) []byte
	// Batch is the number of lines per round trip (default 500).
	Batch int
}

// LoadResult counts what a Load did.
type LoadResult struct {
	// Created: this load created the job.
	Created bool
	// Queued, Duplicates and Invalid count the lines this load added:
	// IDs queued, IDs already in the job, IDs recorded as invalid.
	Queued, Duplicates, Invalid int64
	// Skipped counts the lines already loaded by an earlier load.
	Skipped int64
}

// Create creates the job for the input of fingerprint fp, deleting from
// the API of target; if the job exists, it checks that both match. It
// returns ErrOtherIDs or ErrOtherTarget, having changed nothing, when they
// do not.
func (j *Job) Create(ctx context.Context, fp, target string) (created bool, err error) {
	res, err := createScript.Run(ctx, j.rdb, []string{j.keys.meta, j.keys.ids},
		fp, target, group).StringSlice()
	if err != nil {
		return false, fmt.Errorf("erasejob: create job %s: %w", j.name, err)
	}
	switch res[0] {
	case "created":
		return true, nil
	case "exists":
		return false, nil
	case "other-ids":
		return false, fmt.Errorf("%w: job %s holds the IDs of fingerprint %.12s…, not %.12s…; choose another --job name", ErrOtherIDs, j.name, res[1], fp)
	default:
		return false, fmt.Errorf("%w: job %s", ErrOtherTarget, j.name)
	}
}

// Load creates the job if need be (see Create) and adds the lines that
// earlier loads did not: it is idempotent, and resumes where a loader that
// died stopped. Its memory does not grow with the input.
func (j *Job) Load(ctx context.Context, lines Lines, o LoadOptions) (LoadResult, error) {
	var res LoadResult
	created, err := j.Create(ctx, o.Fingerprint, o.Target)
	if err != nil {
		return res, err
	}
	res.Created = created
	m, err := j.readMeta(ctx)
	if err != nil {
		return res, fmt.Errorf("erasejob: job %s: %w", j.name, err)
	}
	if m.loaded {
		res.Skipped = m.lines
		return res, nil
	}
	batch := o.Batch
	if batch <= 0 {
		batch = 500
	}
	args := make([]any, 0, 3*batch)
	var last int64
	flush := func(eof bool) error {
		if len(args) == 0 && !eof {
			return nil
		}
		head := []any{o.Fingerprint, last, "0"}
		if eof {
			head[2] = "1"
		}
		n, err := loadScript.Run(ctx, j.rdb, []string{j.keys.meta, j.keys.ids, j.keys.records}, append(head, args...)...).Int64Slice()
		if err != nil {
			return fmt.Errorf("erasejob: load job %s at line %d: %w", j.name, last, err)
		}
		res.Queued += n[0]
		res.Duplicates += n[1]
		res.Invalid += n[2]
		args = args[:0]
		return nil
	}
	err = lines(func(line int64, id string) error {
		last = line
		if line <= m.lines {
			res.Skipped++
			return nil
		}
		var rec []byte
		if o.Invalid != nil {
			rec = o.Invalid(line, id)
		}
		args = append(args, line, id, rec)
		if len(args) >= 3*batch {
			return flush(false)
		}
		return ctx.Err()
	})
	if err != nil {
		return res, err
	}
	return res, flush(true)
}
