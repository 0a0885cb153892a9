//go:build !anyspec

package bulk

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type pair struct {
	key string
	seq int64
}

func drain(t *testing.T, it *pairIter) []pair {
	t.Helper()
	var out []pair
	for {
		k, s, ok, err := it.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, pair{string(k), s})
	}
}

// TestSorterOrdersByKeyThenPositionAcrossSpills: whatever the chunk size
// (all in memory, or a run file every few pairs), the merged pairs are
// every pair added, in (key, position) order, equal keys included.
func TestSorterOrdersByKeyThenPositionAcrossSpills(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var in []pair
	for i := range 2000 {
		// Few distinct keys of varied lengths, so that equal keys
		// land in different runs, and prefixes of one another.
		k := strings.Repeat("k", rng.IntN(4)) + fmt.Sprint(rng.IntN(700))
		in = append(in, pair{k, int64(i)})
	}
	want := slices.Clone(in)
	slices.SortFunc(want, func(a, b pair) int { return cmp.Or(strings.Compare(a.key, b.key), cmp.Compare(a.seq, b.seq)) })
	for _, limit := range []int{1 << 20, 4096, 256} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			s := newSorter(t.TempDir(), limit)
			defer s.close()
			s.maxRuns = 1 << 20 // no compaction: every run merged at the end
			for _, p := range in {
				if err := s.add([]byte(p.key), p.seq); err != nil {
					t.Fatal(err)
				}
			}
			it, err := s.merged()
			if err != nil {
				t.Fatal(err)
			}
			if got := drain(t, it); !slices.Equal(got, want) {
				t.Errorf("%d pairs out of %d runs, not the %d sorted pairs", len(got), len(s.runs), len(want))
			}
			if limit == 256 && len(s.runs) < 100 {
				t.Errorf("limit 256 made %d runs: the test does not spill", len(s.runs))
			}
		})
	}
}

// TestSorterCompactsItsRunsToBoundOpenFiles: at maxRuns run files the
// sorter merges them into one, so that its open files stay bounded, and
// the result is still every pair in order.
func TestSorterCompactsItsRunsToBoundOpenFiles(t *testing.T) {
	s := newSorter(t.TempDir(), 256)
	defer s.close()
	s.maxRuns = 4
	var want []pair
	for i := range 1000 {
		k := fmt.Sprint((i * 37) % 500)
		want = append(want, pair{k, int64(i)})
		if err := s.add([]byte(k), int64(i)); err != nil {
			t.Fatal(err)
		}
		if len(s.runs) >= s.maxRuns {
			t.Fatalf("%d run files open after %d pairs, want fewer than %d", len(s.runs), i+1, s.maxRuns)
		}
	}
	slices.SortFunc(want, func(a, b pair) int { return cmp.Or(strings.Compare(a.key, b.key), cmp.Compare(a.seq, b.seq)) })
	it, err := s.merged()
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, it); !slices.Equal(got, want) {
		t.Errorf("%d pairs after compaction, not the %d sorted pairs", len(got), len(want))
	}
}

// TestSorterRefusesAKeyOverItsChunk: a key that cannot fit a chunk is an
// error, not a silent truncation or an endless spill.
func TestSorterRefusesAKeyOverItsChunk(t *testing.T) {
	s := newSorter(t.TempDir(), 1024)
	defer s.close()
	if err := s.add(bytes.Repeat([]byte("x"), 513), 0); err == nil {
		t.Fatal("a 513-byte key in a 1024-byte sorter was accepted")
	}
}

// TestSorterCloseRemovesItsRuns: close leaves no run file behind.
func TestSorterCloseRemovesItsRuns(t *testing.T) {
	dir := t.TempDir()
	s := newSorter(dir, 64)
	for i := range 100 {
		if err := s.add(fmt.Appendf(nil, "%03d", i), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.runs) == 0 {
		t.Fatal("no run spilled")
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(dir + "/run-*"); len(left) != 0 {
		t.Errorf("close left %q", left)
	}
}

// TestSorterKeepsItsChunkWithinTheMemoryLimit: long keys fill the key
// arena before the pair slots: the sorter spills then, and never grows its
// arena beyond half its limit.
func TestSorterKeepsItsChunkWithinTheMemoryLimit(t *testing.T) {
	s := newSorter(t.TempDir(), 1024)
	defer s.close()
	key := bytes.Repeat([]byte("k"), 100)
	for i := range 200 {
		if err := s.add(key, int64(i)); err != nil {
			t.Fatal(err)
		}
		if cap(s.keys) > 1024/2 {
			t.Fatalf("key arena of %d bytes after %d keys, want at most %d", cap(s.keys), i+1, 1024/2)
		}
	}
}
