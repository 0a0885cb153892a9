package pagecalltest

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"
)

// Fault is a failure the server injects instead of, or before, its normal
// answer. Inject queues faults; each request takes the first queued fault
// whose Route matches it (first in, first out), using up one of its Count.
//
// The kinds compose in a fixed order: Delay first; then Reset ends the
// exchange; otherwise the answer is the Status fault's (or, with Status 0,
// the normal validated answer), and Truncate cuts its body short.
type Fault struct {
	// Route selects the requests the fault applies to; "" matches every
	// request. It is "METHOD PATH", "METHOD" or "PATH". METHOD is compared
	// case-insensitively. PATH matches either the document's path template
	// ("/users/{user_id}") of the operation the request routes to, or the
	// request's escaped path, with or without the base path ("/users/alice"
	// or "/v1/users/alice").
	Route string
	// Count is how many matching requests the fault applies to; 0 means 1.
	Count int

	// Status, if not 0, is sent instead of the normal answer, before any
	// validation (as a failing proxy or overloaded server would).
	Status int
	// RetryAfter, if set, is sent as the Retry-After header with Status.
	RetryAfter string
	// Body is the body sent with Status; by default a JSON
	// {"message": ...} naming the status.
	Body []byte

	// Reset closes the connection without answering, with SO_LINGER 0 so
	// the client sees a TCP reset rather than a clean end of stream.
	Reset bool
	// Delay holds the answer back. It ends early, without an answer, if
	// the client gives up or the server is closed.
	Delay time.Duration
	// Truncate declares a Content-Length larger than the body, writes half
	// of the body and closes the connection.
	Truncate bool
}

// queuedFault is a fault with the number of requests it still applies to.
type queuedFault struct {
	fault Fault
	left  int
}

// Inject queues f. It is safe to call while requests are being served.
func (s *Server) Inject(f Fault) {
	n := f.Count
	if n <= 0 {
		n = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &queuedFault{fault: f, left: n})
}

// PendingFaults returns how many injected fault applications are still
// queued (the sum of the remaining counts).
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.faults {
		n += q.left
	}
	return n
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault removes one use of the first queued fault that matches the
// request and returns a copy of it, or nil.
func (s *Server) takeFault(method, template, path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.faults {
		if !s.faultMatches(q.fault.Route, method, template, path) {
			continue
		}
		q.left--
		if q.left == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		f := q.fault
		return &f
	}
	return nil
}

func (s *Server) faultMatches(route, method, template, path string) bool {
	fields := strings.Fields(route)
	var wantMethod, wantPath string
	switch len(fields) {
	case 0:
		return true
	case 1:
		if strings.HasPrefix(fields[0], "/") {
			wantPath = fields[0]
		} else {
			wantMethod = fields[0]
		}
	case 2:
		wantMethod, wantPath = fields[0], fields[1]
	default:
		return false
	}
	if wantMethod != "" && !strings.EqualFold(wantMethod, method) {
		return false
	}
	if wantPath == "" {
		return true
	}
	rel := strings.TrimPrefix(path, s.spec.basePath)
	return wantPath == template && template != "" || wantPath == path || wantPath == rel
}

// sleep waits d and reports true, or reports false as soon as ctx is done or
// the server is closing.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// reset aborts the connection under w with a TCP RST.
func (s *Server) reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.logger.Warn("pagecalltest: cannot hijack connection to reset it", "err", err)
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close sends RST instead of FIN
	}
	_ = conn.Close()
}
