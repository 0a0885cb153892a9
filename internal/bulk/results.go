package bulk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Results is the --results file of a bulk delete: one JSON Lines record
// per finished ID. Each record is appended with a single write(2) of one
// whole line, with no buffer of our own in between, so that a killed
// process (even kill -9) leaves only whole lines: the kernel has either all
// of a write or none of it. Only a power cut or a full disk can leave a
// torn last line, and OpenResults drops one before appending.
//
// A nil *Results writes nothing, so that a run without --results needs
// no special case.
type Results struct {
	// Name is the file's path.
	Name string
	// Dropped is the size in bytes of the torn last line removed at open.
	Dropped int64

	f      *os.File
	enc    *lineEncoder
	err    error // the first write error
	closed bool
}

// OpenResults opens (creating it if need be) the results file name for
// appending, and drops a torn last line.
func OpenResults(name string) (*Results, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--results: %w", err)
	}
	r := &Results{Name: name, f: f, enc: newLineEncoder()}
	if err := r.dropTornTail(); err != nil {
		f.Close()
		return nil, fmt.Errorf("--results %s: %w", name, err)
	}
	return r, nil
}

// Records returns a reader of the records the file held when it was
// opened (a torn last line dropped), for PlanOptions.Done.
func (r *Results) Records() (io.Reader, error) {
	size, err := r.f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(r.f, 0, size), nil
}

// dropTornTail truncates the file after its last line end, if anything
// follows it: the remains of a record whose write was cut short.
func (r *Results) dropTornTail() error {
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
	r.Dropped = size - end
	return r.f.Truncate(end)
}

// Write appends rec as one line. After a failed write it writes nothing
// more; Close reports the error.
func (r *Results) Write(rec Record) {
	if r == nil || r.err != nil {
		return
	}
	var b []byte
	if b, r.err = r.enc.line(rec); r.err == nil {
		_, r.err = r.f.Write(b)
	}
}

// Close closes the file and returns the first write or close error. It
// may be called more than once.
func (r *Results) Close() error {
	if r == nil {
		return nil
	}
	if !r.closed {
		r.closed = true
		r.err = errors.Join(r.err, r.f.Close())
	}
	return r.err
}
