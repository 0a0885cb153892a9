package pagecalltest

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fault is a failure the server injects instead of, or before, its normal
// answer. Inject queues faults; each request takes the first queued fault
// whose Route matches it (first in, first out), using up one of its Count.
//
// The kinds compose in a fixed order: Together and Delay hold the request
// first; then Reset ends the exchange; otherwise the answer is the Status
// fault's (or, with Status 0, the normal validated answer), and Truncate
// cuts its body short.
//
// Three shapes model what an API does under load:
//
//	Fault{Status: 429, RetryAfter: "1", Window: time.Second}  // a rate limit for one second
//	Fault{Status: 503, Rate: 0.05, Seed: 1}                   // 5% of requests fail at random
//	Fault{Status: 503, Count: 64, Together: true}             // a blip: 64 callers fail at the same moment
type Fault struct {
	// Route selects the requests the fault applies to; "" matches every
	// request. It is "METHOD PATH", "METHOD" or "PATH". METHOD is compared
	// case-insensitively. PATH matches either the document's path template
	// ("/users/{user_id}") of the operation the request routes to, or the
	// request's escaped path, with or without the base path ("/users/alice"
	// or "/v1/users/alice").
	Route string
	// Count is how many matching requests the fault applies to; 0 means 1,
	// or no limit with Window or Rate.
	Count int
	// Window, if set, applies the fault to every matching request from the
	// first one it applies to until Window has passed, when it is dropped
	// from the queue; Count is then ignored.
	Window time.Duration
	// Rate, if above 0, applies the fault to each matching request with
	// this probability: a random failure rate. A request that the draw
	// spares looks further down the queue.
	Rate float64
	// Seed fixes the sequence of Rate's draws, so that a run can be
	// repeated; 0 picks a random sequence.
	Seed uint64
	// Together holds the first Count matching requests until all of them
	// have arrived, then lets them go at the same moment. A request is
	// held at most 10 s, or until the server closes.
	Together bool

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

// togetherMax bounds how long a Together fault holds a request.
const togetherMax = 10 * time.Second

// queuedFault is a fault with the number of requests it still applies to.
type queuedFault struct {
	fault   Fault
	left    int        // -1: no limit (Window, or Rate without Count)
	started time.Time  // Window: when the first request took it
	rng     *rand.Rand // Rate's draws
	// Together: closed when the last of the held requests arrives.
	all     chan struct{}
	arrived int
}

// Inject queues f. It is safe to call while requests are being served.
func (s *Server) Inject(f Fault) {
	q := &queuedFault{fault: f, left: max(f.Count, 1)}
	if f.Window > 0 || f.Rate > 0 && f.Count <= 0 {
		q.left = -1
	}
	if f.Rate > 0 {
		seed := f.Seed
		if seed == 0 {
			seed = rand.Uint64()
		}
		q.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	if f.Together {
		q.all = make(chan struct{})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, q)
}

// PendingFaults returns how many injected fault applications are still
// queued (the sum of the remaining counts; a fault without a limit, such
// as a Window, counts 1 while it is queued).
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropExpired(time.Now())
	n := 0
	for _, q := range s.faults {
		n += max(q.left, 1)
	}
	return n
}

// dropExpired removes the Window faults whose window is over. s.mu is held.
func (s *Server) dropExpired(now time.Time) {
	s.faults = slices.DeleteFunc(s.faults, func(q *queuedFault) bool {
		return q.fault.Window > 0 && !q.started.IsZero() && now.Sub(q.started) >= q.fault.Window
	})
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault removes one use of the first queued fault that applies to the
// request and returns a copy of it, or nil. For a Together fault it returns
// once the request may go.
func (s *Server) takeFault(method, template, path string) *Fault {
	f, all := s.pickFault(method, template, path)
	if all != nil {
		t := time.NewTimer(togetherMax)
		defer t.Stop()
		select {
		case <-all:
		case <-t.C:
		case <-s.done:
		}
	}
	return f
}

// pickFault is takeFault under s.mu: it returns the fault and, for a
// Together fault, the channel closed when the request may go.
func (s *Server) pickFault(method, template, path string) (*Fault, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.dropExpired(now)
	for i, q := range s.faults {
		if !s.faultMatches(q.fault.Route, method, template, path) {
			continue
		}
		if q.rng != nil && q.rng.Float64() >= q.fault.Rate {
			continue // spared by the draw
		}
		if q.fault.Window > 0 && q.started.IsZero() {
			q.started = now
		}
		if q.left > 0 {
			q.left--
			if q.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		f := q.fault
		if q.all == nil {
			return &f, nil
		}
		q.arrived++
		if q.arrived == max(f.Count, 1) {
			close(q.all)
		}
		return &f, q.all
	}
	return nil, nil
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
