//go:build !anyspec

package erasejob

import (
	"errors"
	"maps"
	"testing"
)

// queued returns the IDs in the job's stream, in order.
func queued(t *testing.T, j *Job) []string {
	t.Helper()
	msgs, err := j.rdb.XRange(t.Context(), j.keys.ids, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range items(msgs, false) {
		ids = append(ids, it.ID)
	}
	return ids
}

// TestLoadIsIdempotent: loading the same input twice queues each unique ID
// once; duplicate lines and invalid IDs are counted, an invalid ID gets its
// final record at once and is never queued.
func TestLoadIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			j := newJob(t, b.rdb)
			lines := input("a", "b", "a", ".", "c", "b")
			first := load(t, j, lines, 2)
			if !first.Created || first.Queued != 3 || first.Duplicates != 2 || first.Invalid != 1 {
				t.Errorf("first load %+v, want created, 3 queued, 2 duplicates, 1 invalid", first)
			}
			second := load(t, j, lines, 2)
			if second.Created || second.Queued != 0 || second.Skipped != 6 {
				t.Errorf("second load %+v, want nothing added, 6 lines skipped", second)
			}
			if got := queued(t, j); len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
				t.Errorf("stream %q, want a b c", got)
			}
			s, err := j.Status(t.Context(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Loaded || s.IDs != 4 || s.Duplicates != 2 || s.Final != 1 || s.Outcomes[OutcomeInvalid] != 1 || s.Waiting != 3 {
				t.Errorf("status %+v, want loaded, 4 IDs, 2 duplicates, 1 final (invalid), 3 waiting", s)
			}
		})
	}
}

// TestLoadResumesAfterLoaderDies: a loader that dies part-way (its input
// fails after 7 lines, batches of 3) leaves whole batches; the next load
// adds only the rest, so that every ID is queued exactly once.
func TestLoadResumesAfterLoaderDies(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			j := newJob(t, b.rdb)
			ids := numbered("u", 20)
			lines := input(ids...)
			fp, err := Fingerprint(lines)
			if err != nil {
				t.Fatal(err)
			}
			died := errors.New("loader died")
			dying := func(fn func(int64, string) error) error {
				return lines(func(n int64, id string) error {
					if n > 7 {
						return died
					}
					return fn(n, id)
				})
			}
			if _, err := j.Load(t.Context(), dying, LoadOptions{Fingerprint: fp, Target: "t", Batch: 3}); !errors.Is(err, died) {
				t.Fatalf("dying load: %v", err)
			}
			s, _ := j.Status(t.Context(), 0)
			if s.Loaded || s.Lines != 6 || s.IDs != 6 {
				t.Fatalf("after the death: %+v, want 6 lines (2 whole batches) loaded, not finished", s)
			}
			res := load(t, j, lines, 3)
			if res.Skipped != 6 || res.Queued != 14 {
				t.Errorf("resumed load %+v, want 6 skipped, 14 queued", res)
			}
			got := queued(t, j)
			if len(got) != len(ids) {
				t.Fatalf("%d IDs queued, want %d", len(got), len(ids))
			}
			for i := range ids {
				if got[i] != ids[i] {
					t.Fatalf("queued[%d] = %s, want %s", i, got[i], ids[i])
				}
			}
		})
	}
}

// TestLoadRefusesOtherIDs: a job name already used for other IDs is
// refused with ErrOtherIDs, and nothing in Redis changes; so is the same
// input for another API (ErrOtherTarget).
func TestLoadRefusesOtherIDs(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			j := newJob(t, b.rdb)
			load(t, j, input("a", "b"), 10)
			before := snapshot(t, b, j)
			other := input("a", "x")
			fp, _ := Fingerprint(other)
			if _, err := j.Load(t.Context(), other, LoadOptions{Fingerprint: fp, Target: "t"}); !errors.Is(err, ErrOtherIDs) {
				t.Errorf("load of other IDs: %v, want ErrOtherIDs", err)
			}
			same, _ := Fingerprint(input("a", "b"))
			if _, err := j.Load(t.Context(), input("a", "b"), LoadOptions{Fingerprint: same, Target: "other"}); !errors.Is(err, ErrOtherTarget) {
				t.Errorf("load for another API: %v, want ErrOtherTarget", err)
			}
			if after := snapshot(t, b, j); !maps.Equal(before, after) {
				t.Errorf("Redis changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestFingerprint: the fingerprint changes with an ID or its line, and
// only with them.
func TestFingerprint(t *testing.T) {
	t.Parallel()
	fp := func(l Lines) string {
		s, err := Fingerprint(l)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := fp(input("a", "b"))
	if fp(input("a", "b")) != base {
		t.Error("the same input has two fingerprints")
	}
	for name, l := range map[string]Lines{
		"other ID":    input("a", "c"),
		"other order": input("b", "a"),
		"one more":    input("a", "b", "c"),
		"moved line": func(fn func(int64, string) error) error {
			if err := fn(1, "a"); err != nil {
				return err
			}
			return fn(3, "b")
		},
	} {
		if fp(l) == base {
			t.Errorf("%s: same fingerprint as a b", name)
		}
	}
}
