package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// resultsFile is the --results file of a bulk delete: one JSON Lines record
// per finished ID. Each record is appended with a single write(2) of one
// whole line, with no buffer of our own in between, so that a killed
// process (even kill -9) leaves only whole lines: the kernel has either all
// of a write or none of it. Only a power cut or a full disk can leave a
// torn last line, and openResults drops one before appending.
//
// A nil *resultsFile writes nothing, so that a run without --results needs
// no special case.
type resultsFile struct {
	name    string
	f       *os.File
	done    map[string]bool // --resume: the IDs the file records as deleted
	dropped int64           // bytes of a torn last line removed at open
	err     error           // the first write error
	closed  bool
}

// openResults opens (creating it if need be) the results file for
// appending. With resume it reads the records already there, so that
// skipDone can leave out the IDs they record as deleted.
func openResults(name string, resume bool) (*resultsFile, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--results: %w", err)
	}
	r := &resultsFile{name: name, f: f}
	if err := r.dropTornTail(); err != nil {
		f.Close()
		return nil, fmt.Errorf("--results %s: %w", name, err)
	}
	if resume {
		if r.done, err = readDone(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--results %s: %w", name, err)
		}
	}
	return r, nil
}

// dropTornTail truncates the file after its last line end, if anything
// follows it: the remains of a record whose write was cut short.
func (r *resultsFile) dropTornTail() error {
	size, err := r.f.Seek(0, io.SeekEnd)
	if err != nil || size == 0 {
		return err
	}
	// Read backwards in chunks until a line end is found.
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	end := size
	for end > 0 {
		n := min(int64(chunk), end)
		if _, err := r.f.ReadAt(buf[:n], end-n); err != nil {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end == size {
		return nil
	}
	r.dropped = size - end
	return r.f.Truncate(end)
}

// readDone returns the IDs that the records of f give as deleted. A line
// that is not a record is ignored.
func readDone(f *os.File) (map[string]bool, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	done := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var rec struct{ ID, Outcome string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Outcome == outcomeDeleted {
			done[rec.ID] = true
		}
	}
	return done, sc.Err()
}

// skipDone drops from list the IDs that the file records as deleted, and
// counts them in Done.
func (r *resultsFile) skipDone(list idList) idList {
	if r == nil || len(r.done) == 0 {
		return list
	}
	kept := list.IDs[:0]
	for _, id := range list.IDs {
		if r.done[id] {
			list.Done++
			continue
		}
		kept = append(kept, id)
	}
	list.IDs = kept
	r.done = nil // no longer needed: let it go
	return list
}

// write appends rec as one line. After a failed write it writes nothing
// more; Close reports the error.
func (r *resultsFile) write(rec record) {
	if r == nil || r.err != nil {
		return
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if r.err = enc.Encode(rec); r.err != nil { // Encode ends the line with '\n'
		return
	}
	_, r.err = r.f.Write(b.Bytes())
}

// Close closes the file and returns the first write or close error. It
// may be called more than once.
func (r *resultsFile) Close() error {
	if r == nil {
		return nil
	}
	if !r.closed {
		r.closed = true
		r.err = errors.Join(r.err, r.f.Close())
	}
	return r.err
}
