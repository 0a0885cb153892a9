package bulk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// MaxIDLine bounds one line of an ID list, so that a binary file given by
// mistake fails with a clear error instead of growing a buffer without end.
const MaxIDLine = 64 << 10

// DefaultMemLimit is the memory each of a Plan's two sorts (the input's
// IDs, and the IDs a resumed run deleted) holds before it spills to disk.
const DefaultMemLimit = 8 << 20

// Input is where the IDs of a run come from.
type Input struct {
	// Args are IDs taken as they are: an empty one is kept (and later
	// reported as invalid).
	Args []string
	// File, if not nil, gives one ID per line, after Args. Lines are
	// trimmed of surrounding white space (a CRLF line end included);
	// blank lines and lines whose first non-blank character is '#' are
	// skipped.
	File io.Reader
	// Name names File in errors, e.g. "stdin" or the file's path.
	Name string
}

// PlanOptions tune NewPlan.
type PlanOptions struct {
	// Dir holds the Plan's temporary files; "" is os.TempDir().
	Dir string
	// Done, if not nil, is the JSON Lines records of the run being
	// resumed: the IDs it gives as deleted are skipped. Lines that are
	// not records are ignored.
	Done io.Reader
	// MemLimit is DefaultMemLimit if 0.
	MemLimit int
}

// Plan is the Source of a local run: the IDs of an Input, each once, at
// its first position (Args first, then File's lines), without those a
// resumed run deleted.
//
// It holds neither the IDs nor a set of them. NewPlan copies the Input to
// a spool file and sorts (ID, position) pairs, spilling sorted runs to
// disk beyond MemLimit; walking the sorted pairs beside the sorted done
// IDs marks every position to skip in a bitmap, one bit per input ID.
// Next then reads the spool in input order, leaving out the marked
// positions. Matching is exact, by ID bytes: nothing is skipped because
// it looks like another ID.
type Plan struct {
	// Duplicates counts the IDs skipped because they appeared before.
	Duplicates int
	// Done counts the IDs skipped because the run resumed deleted them.
	Done int
	// Pending is the number of Items Next yields.
	Pending int

	dir   string
	spool *os.File
	r     *bufio.Reader
	seq   int64 // position of the next spooled ID
	skip  bitmap
	idBuf []byte
}

// NewPlan reads in (and o.Done) whole, and returns the Plan of its IDs.
// Close removes its temporary files.
func NewPlan(in Input, o PlanOptions) (_ *Plan, err error) {
	limit := o.MemLimit
	if limit <= 0 {
		limit = DefaultMemLimit
	}
	dir, err := os.MkdirTemp(o.Dir, "pagecall-bulk-")
	if err != nil {
		return nil, fmt.Errorf("temporary files: %w", err)
	}
	p := &Plan{dir: dir}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	done := newSorter(dir, limit)
	defer done.close()
	if o.Done != nil {
		if err := readDone(o.Done, done); err != nil {
			return nil, err
		}
	}
	doneIt, err := done.merged() // before the input's sort fills: one chunk in memory at a time
	if err != nil {
		return nil, err
	}
	ids := newSorter(dir, limit)
	defer ids.close()
	total, err := p.spoolInput(in, ids)
	if err != nil {
		return nil, err
	}
	idsIt, err := ids.merged()
	if err != nil {
		return nil, err
	}
	p.skip = newBitmap(total)
	if err := p.markSkipped(idsIt, doneIt); err != nil {
		return nil, fmt.Errorf("sort the IDs: %w", err)
	}
	p.Pending = int(total) - p.Duplicates - p.Done
	if _, err := p.spool.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	p.r = bufio.NewReaderSize(p.spool, 64<<10)
	return p, nil
}

// spoolInput copies the IDs of in to the spool file, as (line, ID)
// entries, and adds each (ID, position) to ids. It returns the count.
func (p *Plan) spoolInput(in Input, ids *sorter) (int64, error) {
	f, err := os.CreateTemp(p.dir, "spool-*")
	if err != nil {
		return 0, fmt.Errorf("temporary files: %w", err)
	}
	p.spool = f
	w := bufio.NewWriterSize(f, 64<<10)
	var seq int64
	var b [2 * binary.MaxVarintLen64]byte
	add := func(line int64, id []byte) error {
		n := binary.PutVarint(b[:], line)
		n += binary.PutUvarint(b[n:], uint64(len(id)))
		w.Write(b[:n])
		if _, err := w.Write(id); err != nil {
			return fmt.Errorf("spool the IDs: %w", err)
		}
		seq++
		return ids.add(id, seq-1)
	}
	for _, a := range in.Args {
		if err := add(0, []byte(a)); err != nil {
			return 0, err
		}
	}
	if in.File != nil {
		if err := ScanLines(in.File, in.Name, add); err != nil {
			return 0, err
		}
	}
	if err := w.Flush(); err != nil {
		return 0, fmt.Errorf("spool the IDs: %w", err)
	}
	return seq, nil
}

// ScanLines calls fn with each ID of r, one per line, and its line number
// (from 1): lines are trimmed of surrounding white space (a CRLF line end
// included); blank lines and lines whose first non-blank character is '#'
// are skipped. id is valid only during the call. It returns fn's first
// error, or a read error naming r as name (e.g. "stdin" or the path).
func ScanLines(r io.Reader, name string, fn func(line int64, id []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxIDLine)
	var line int64
	for sc.Scan() {
		line++
		s := bytes.TrimSpace(sc.Bytes())
		if len(s) == 0 || s[0] == '#' {
			continue
		}
		if err := fn(line, s); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("read %s: a line is longer than %d bytes; is this a list of user IDs, one per line?", name, MaxIDLine)
		}
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

// readDone adds to done the IDs that the records of r give as deleted.
func readDone(r io.Reader, done *sorter) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var rec struct{ ID, Outcome string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Outcome == OutcomeDeleted {
			if err := done.add([]byte(rec.ID), 0); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read the records of the run resumed: %w", err)
	}
	return nil
}

// markSkipped walks the input's (ID, position) pairs and the done IDs,
// both sorted by ID, and marks in p.skip every position but the first of
// each ID, and the first too when the ID is done.
func (p *Plan) markSkipped(ids, done *pairIter) error {
	var prev []byte
	first := true
	dkey, _, dok, err := done.next()
	if err != nil {
		return err
	}
	for {
		key, seq, ok, err := ids.next()
		if err != nil || !ok {
			return err
		}
		if !first && bytes.Equal(key, prev) {
			p.skip.set(seq)
			p.Duplicates++
			continue
		}
		first = false
		prev = append(prev[:0], key...)
		for dok && bytes.Compare(dkey, key) < 0 {
			if dkey, _, dok, err = done.next(); err != nil {
				return err
			}
		}
		if dok && bytes.Equal(dkey, key) {
			p.skip.set(seq)
			p.Done++
		}
	}
}

// Next returns the next Item to work on, io.EOF after the last.
func (p *Plan) Next(context.Context) (Item, error) {
	for {
		line, err := binary.ReadVarint(p.r)
		if errors.Is(err, io.EOF) {
			return Item{}, io.EOF
		}
		var n uint64
		if err == nil {
			n, err = binary.ReadUvarint(p.r)
		}
		if err == nil {
			if n > MaxIDLine<<4 {
				err = errors.New("corrupt entry")
			} else {
				p.idBuf = slices.Grow(p.idBuf[:0], int(n))[:n]
				_, err = io.ReadFull(p.r, p.idBuf)
			}
		}
		if err != nil {
			return Item{}, fmt.Errorf("read the spooled IDs: %w", noEOF(err))
		}
		seq := p.seq
		p.seq++
		if p.skip.has(seq) {
			continue
		}
		return Item{ID: string(p.idBuf), Line: line}, nil
	}
}

// Close removes the Plan's temporary files. It may be called more than once.
func (p *Plan) Close() error {
	var errs []error
	if p.spool != nil {
		errs = append(errs, p.spool.Close())
		p.spool = nil
	}
	if p.dir != "" {
		errs = append(errs, os.RemoveAll(p.dir))
		p.dir = ""
	}
	return errors.Join(errs...)
}
