package erasejob

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Status is a job's progress.
type Status struct {
	// Name is the job's name.
	Name string
	// At is when the status was read, by Redis's clock, which every time
	// of a job follows.
	At time.Time
	// Created is when the first loader created the job.
	Created time.Time
	// Loaded: the whole input is loaded. Lines is the last input line
	// loaded, LoaderSeen when a loader last added lines.
	Loaded     bool
	Lines      int64
	LoaderSeen time.Time
	// IDs counts the unique IDs loaded; Duplicates the lines whose ID
	// came earlier.
	IDs, Duplicates int64
	// Final counts the IDs with their final record, Outcomes per outcome.
	Final    int64
	Outcomes map[string]int64
	// Resent counts the final records of IDs whose DELETE a worker that
	// died had most likely sent already.
	Resent int64
	// InFlight counts the IDs handed to a worker and not yet final;
	// Waiting those not handed out yet.
	InFlight, Waiting int64
	// Workers are the workers seen within the recent window, most recent
	// first.
	Workers []WorkerStatus
}

// WorkerStatus is one worker's part of a Status.
type WorkerStatus struct {
	// Name is the worker's consumer name (host, PID, random).
	Name string
	// LastSeen is its last heartbeat.
	LastSeen time.Time
	// InFlight counts the IDs it holds.
	InFlight int64
}

// Done reports whether every ID has its final record.
func (s Status) Done() bool { return s.Loaded && s.Final >= s.IDs }

// Status returns the job's progress, with the workers seen within recent.
// It returns ErrNoJob if there is no such job. It changes nothing.
func (j *Job) Status(ctx context.Context, recent time.Duration) (Status, error) {
	m, err := j.readMeta(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("erasejob: job %s: %w", j.name, err)
	}
	if !m.exists {
		return Status{}, fmt.Errorf("%w: %s", ErrNoJob, j.name)
	}
	s := Status{Name: j.name, At: m.now, Created: m.created, Loaded: m.loaded, Lines: m.lines, LoaderSeen: m.loaderSeen,
		IDs: m.ids, Duplicates: m.duplicates, Final: m.final, Outcomes: m.outcomes, Resent: m.resent}
	p, err := j.rdb.XPending(ctx, j.keys.ids, group).Result()
	if err != nil {
		return Status{}, fmt.Errorf("erasejob: job %s: %w", j.name, err)
	}
	s.InFlight = p.Count
	s.Waiting = max(0, s.IDs-s.Final-s.InFlight)
	since := m.now.Add(-recent)
	seen, err := j.rdb.ZRangeByScoreWithScores(ctx, j.keys.workers, &redis.ZRangeBy{
		Min: fmt.Sprint(since.UnixMilli()), Max: "+inf",
	}).Result()
	if err != nil {
		return Status{}, fmt.Errorf("erasejob: job %s: %w", j.name, err)
	}
	for _, z := range seen {
		name, _ := z.Member.(string)
		s.Workers = append(s.Workers, WorkerStatus{Name: name, LastSeen: time.UnixMilli(int64(z.Score)), InFlight: p.Consumers[name]})
	}
	slices.SortFunc(s.Workers, func(a, b WorkerStatus) int { return b.LastSeen.Compare(a.LastSeen) })
	return s, nil
}

// Format writes the status for a person.
func (s Status) Format(w io.Writer) error {
	now := s.At
	var b strings.Builder
	fmt.Fprintf(&b, "job %s: ", s.Name)
	if s.Loaded {
		fmt.Fprintf(&b, "%d IDs loaded", s.IDs)
	} else {
		fmt.Fprintf(&b, "loading: %d IDs so far (input line %d; loader last seen %v ago)", s.IDs, s.Lines, ago(now, s.LoaderSeen))
	}
	if s.Duplicates > 0 {
		fmt.Fprintf(&b, " (%d duplicate lines skipped)", s.Duplicates)
	}
	if s.Done() {
		b.WriteString("; done")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "final records: %d", s.Final)
	for _, o := range slices.Sorted(maps.Keys(s.Outcomes)) {
		fmt.Fprintf(&b, ", %s %d", o, s.Outcomes[o])
	}
	if s.Resent > 0 {
		fmt.Fprintf(&b, " (%d re-sent after a worker died)", s.Resent)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "to do: %d (in flight %d, waiting %d)\n", s.InFlight+s.Waiting, s.InFlight, s.Waiting)
	fmt.Fprintf(&b, "workers seen recently: %d\n", len(s.Workers))
	for _, wk := range s.Workers {
		fmt.Fprintf(&b, "  %s  last seen %v ago, %d in flight\n", wk.Name, ago(now, wk.LastSeen), wk.InFlight)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ago(now, t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return max(0, now.Sub(t)).Round(100 * time.Millisecond)
}

// Export writes every final record of the job to w, one JSON line each,
// reading the records in pages so that its memory does not grow with the
// job. It returns the number written and the number of IDs without a
// final record yet (not written). It returns ErrNoJob if there is no such
// job and ErrLoading if its load is not finished, and changes nothing.
func (j *Job) Export(ctx context.Context, w io.Writer) (written, unfinished int64, err error) {
	m, err := j.readMeta(ctx)
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("erasejob: job %s: %w", j.name, err)
	case !m.exists:
		return 0, 0, fmt.Errorf("%w: %s", ErrNoJob, j.name)
	case !m.loaded:
		// Fields are only added by the load. A scan while the hash grows
		// may return a field twice; once it stops growing, it may not.
		return 0, 0, fmt.Errorf("%w: job %s is loaded up to line %d; export it once the load is finished", ErrLoading, j.name, m.lines)
	}
	bw := bufio.NewWriter(w)
	it := j.rdb.HScan(ctx, j.keys.records, 0, "", 1000).Iterator()
	for it.Next(ctx) {
		if !it.Next(ctx) { // HSCAN yields field, value
			break
		}
		rec := it.Val()
		if rec == "" {
			unfinished++
			continue
		}
		if _, err := bw.WriteString(rec); err != nil {
			return written, unfinished, err
		}
		if err := bw.WriteByte('\n'); err != nil {
			return written, unfinished, err
		}
		written++
	}
	if err := it.Err(); err != nil {
		return written, unfinished, fmt.Errorf("erasejob: export job %s: %w", j.name, err)
	}
	return written, unfinished, bw.Flush()
}
