package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxIDLine bounds one line of an ID list, so that a binary file given by
// mistake fails with a clear error instead of growing a buffer without end.
const maxIDLine = 64 << 10

// idList is the deduplicated list of user IDs a bulk command works on.
type idList struct {
	// IDs are the unique IDs in the order they first appeared: the
	// arguments first, then the file's lines.
	IDs []string
	// Duplicates counts the IDs dropped because they appeared before.
	Duplicates int
	// Done counts the IDs dropped because the results file of the run
	// being resumed records them as deleted.
	Done int
}

// readIDs collects user IDs from the command-line arguments and, if r is not
// nil, from r, one ID per line.
//
// Arguments are taken as they are, so an empty argument is kept (and later
// reported as invalid). Lines are trimmed of surrounding white space
// (including a CRLF line end); blank lines and lines whose first non-blank
// character is '#' are skipped. An ID that appears again, in either source,
// is kept once, at its first position.
//
// name names r in errors, e.g. "stdin" or the file's path.
func readIDs(args []string, r io.Reader, name string) (idList, error) {
	var l idList
	seen := make(map[string]bool, len(args))
	add := func(id string) {
		if seen[id] {
			l.Duplicates++
			return
		}
		seen[id] = true
		l.IDs = append(l.IDs, id)
	}
	for _, a := range args {
		add(a)
	}
	if r == nil {
		return l, nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxIDLine)
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		add(s)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return l, fmt.Errorf("read %s: a line is longer than %d bytes; is this a list of user IDs, one per line?", name, maxIDLine)
		}
		return l, fmt.Errorf("read %s: %w", name, err)
	}
	return l, nil
}
