package bulk

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// sorter sorts (key, seq) pairs by key, then seq, in bounded memory, the
// way sort(1) does: it holds up to limit bytes of pairs, sorts them and
// spills them to a run file in dir when full, and merges the runs at the
// end. Keys live in one arena, not one string each, so that a chunk costs
// its bytes and 16 more per pair, and the garbage collector has nothing to
// trace.
//
// Hand-written: no maintained Go module on the module proxy's list does an
// external sort, and this one is a few dozen lines over the standard
// library.
type sorter struct {
	dir     string
	keys    []byte // arena of the chunk's keys
	ents    []ent
	runs    []*os.File
	done    bool
	limit   int
	maxRuns int // runs merged into one when there are this many: open files stay bounded
}

// defaultMaxRuns bounds a sorter's open run files well below the usual
// limit of 1024 open files. With the default memory limit it is first
// reached at about 28 million IDs.
const defaultMaxRuns = 128

// ent is one pair of a chunk: its key is keys[off:off+n].
type ent struct {
	off, n uint32
	seq    int64
}

// newSorter returns a sorter that holds about limit bytes of pairs in
// memory and spills to run files in dir beyond.
func newSorter(dir string, limit int) *sorter {
	limit = max(limit, 64)
	return &sorter{dir: dir, limit: limit, maxRuns: defaultMaxRuns}
}

// add adds the pair (key, seq).
func (s *sorter) add(key []byte, seq int64) error {
	if s.done {
		return errors.New("sorter: add after merge")
	}
	if len(key) > s.limit/2 {
		return fmt.Errorf("sorter: a key of %d bytes is over the chunk size", len(key))
	}
	if s.keys == nil {
		s.keys = make([]byte, 0, s.limit/2)
		s.ents = make([]ent, 0, s.limit/2/16)
	}
	if len(s.keys)+len(key) > cap(s.keys) || len(s.ents) == cap(s.ents) {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.ents = append(s.ents, ent{off: uint32(len(s.keys)), n: uint32(len(key)), seq: seq})
	s.keys = append(s.keys, key...)
	return nil
}

func (s *sorter) key(e ent) []byte { return s.keys[e.off : e.off+e.n] }

func (s *sorter) sortChunk() {
	slices.SortFunc(s.ents, func(a, b ent) int {
		return cmp.Or(bytes.Compare(s.key(a), s.key(b)), cmp.Compare(a.seq, b.seq))
	})
}

// spill writes the chunk, sorted, to a new run file and empties it. A run
// holds, per pair: uvarint key length, key, varint seq.
func (s *sorter) spill() error {
	s.sortChunk()
	f, err := os.CreateTemp(s.dir, "run-*")
	if err != nil {
		return err
	}
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, 64<<10)
	var b [2 * binary.MaxVarintLen64]byte
	for _, e := range s.ents {
		n := binary.PutUvarint(b[:], uint64(e.n))
		w.Write(b[:n])
		w.Write(s.key(e))
		n = binary.PutVarint(b[:], e.seq)
		if _, err := w.Write(b[:n]); err != nil {
			return fmt.Errorf("spill to %s: %w", f.Name(), err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("spill to %s: %w", f.Name(), err)
	}
	s.keys, s.ents = s.keys[:0], s.ents[:0]
	if len(s.runs) >= s.maxRuns {
		return s.compact()
	}
	return nil
}

// compact merges the run files into one.
func (s *sorter) compact() error {
	it, err := s.mergeRuns()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(s.dir, "run-*")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	var b [2 * binary.MaxVarintLen64]byte
	for {
		key, seq, ok, err := it.next()
		if err != nil {
			f.Close()
			return err
		}
		if !ok {
			break
		}
		n := binary.PutUvarint(b[:], uint64(len(key)))
		w.Write(b[:n])
		w.Write(key)
		n = binary.PutVarint(b[:], seq)
		w.Write(b[:n])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("merge runs into %s: %w", f.Name(), err)
	}
	if err := s.close(); err != nil {
		f.Close()
		return err
	}
	s.runs = []*os.File{f}
	return nil
}

// mergeRuns returns an iterator over the pairs of the run files.
func (s *sorter) mergeRuns() (*pairIter, error) {
	it := &pairIter{}
	for _, f := range s.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		it.cursors = append(it.cursors, &runCursor{r: bufio.NewReaderSize(f, 32<<10), name: f.Name()})
	}
	return it, it.start()
}

// merged returns the pairs in order. It ends adding. When any chunk was
// spilled, the last one is spilled too and the memory let go, so that
// a finished sorter holds at most its run files' read buffers.
func (s *sorter) merged() (*pairIter, error) {
	s.done = true
	if len(s.runs) > 0 && len(s.ents) > 0 {
		if err := s.spill(); err != nil {
			return nil, err
		}
	}
	if len(s.runs) == 0 {
		s.sortChunk()
		it := &pairIter{cursors: []cursor{&memCursor{s: s}}}
		return it, it.start()
	}
	s.keys, s.ents = nil, nil
	return s.mergeRuns()
}

// close removes the run files.
func (s *sorter) close() error {
	var errs []error
	for _, f := range s.runs {
		errs = append(errs, f.Close(), os.Remove(f.Name()))
	}
	s.runs = nil
	return errors.Join(errs...)
}

// cursor reads one sorted sequence of pairs.
type cursor interface {
	// next moves to the next pair; false at the end.
	next() (bool, error)
	pair() ([]byte, int64)
}

type memCursor struct {
	s *sorter
	i int // 1 + the index of the current pair
}

func (c *memCursor) next() (bool, error) {
	c.i++
	return c.i <= len(c.s.ents), nil
}

func (c *memCursor) pair() ([]byte, int64) {
	e := c.s.ents[c.i-1]
	return c.s.key(e), e.seq
}

type runCursor struct {
	r    *bufio.Reader
	name string
	key  []byte
	seq  int64
}

func (c *runCursor) next() (bool, error) {
	n, err := binary.ReadUvarint(c.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err == nil {
		c.key = slices.Grow(c.key[:0], int(n))[:n]
		_, err = io.ReadFull(c.r, c.key)
	}
	if err == nil {
		c.seq, err = binary.ReadVarint(c.r)
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", c.name, noEOF(err))
	}
	return true, nil
}

func (c *runCursor) pair() ([]byte, int64) { return c.key, c.seq }

// noEOF turns an end of file inside a pair into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// pairIter merges cursors in (key, seq) order.
type pairIter struct {
	cursors []cursor
	h       cursorHeap
	cur     cursor // the cursor of the pair last returned, to advance
}

// start reads the first pair of each cursor.
func (it *pairIter) start() error {
	for _, c := range it.cursors {
		ok, err := c.next()
		if err != nil {
			return err
		}
		if ok {
			it.h = append(it.h, c)
		}
	}
	heap.Init(&it.h)
	return nil
}

// next returns the next pair; ok is false at the end. The key is valid
// until the next call.
func (it *pairIter) next() (key []byte, seq int64, ok bool, err error) {
	if it.cur != nil {
		more, err := it.cur.next()
		if err != nil {
			return nil, 0, false, err
		}
		if more {
			heap.Fix(&it.h, 0)
		} else {
			heap.Pop(&it.h)
		}
		it.cur = nil
	}
	if len(it.h) == 0 {
		return nil, 0, false, nil
	}
	it.cur = it.h[0]
	key, seq = it.cur.pair()
	return key, seq, true, nil
}

type cursorHeap []cursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	ki, si := h[i].pair()
	kj, sj := h[j].pair()
	if c := bytes.Compare(ki, kj); c != 0 {
		return c < 0
	}
	return si < sj
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
