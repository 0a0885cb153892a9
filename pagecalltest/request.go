package pagecalltest

import (
	"net/http"
	"slices"
	"time"
)

// Request is one request the server received, as recorded in its log.
type Request struct {
	// Method is the request method.
	Method string
	// Path is the escaped path as received, base path included
	// (r.URL.EscapedPath()).
	Path string
	// RawQuery is the query string without the '?'.
	RawQuery string
	// Header is a copy of the request headers.
	Header http.Header
	// Body is the request body.
	Body []byte
	// Time is when the request arrived.
	Time time.Time

	// Route is the operation the request routed to, as "METHOD
	// /path/{template}", or "" if none did.
	Route string
	// OperationID is that operation's operationId.
	OperationID string
	// Status is the status sent; 0 if no answer was sent (reset, or the
	// wait of a Delay fault ended because the client left or the server
	// closed).
	Status int
	// Response is the body the server answered with (all of it, even when
	// a Truncate fault sent only part).
	Response []byte
	// Fault is the injected fault applied to the request, nil if none.
	Fault *Fault
}

// Requests returns a copy of the request log, oldest first. A request is
// logged just before its answer is sent, so a client that has its answer
// finds the request in the log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *Server) logRequest(rec *Request) {
	s.mu.Lock()
	if s.maxRequests < 0 || len(s.requests) < s.maxRequests {
		s.requests = append(s.requests, *rec)
	} else if s.maxRequests > 0 {
		// Drop the oldest; the copy is amortised by the log's capacity.
		s.requests = append(s.requests[1:], *rec)
	}
	s.mu.Unlock()
	s.logger.Info("pagecalltest request",
		"method", rec.Method, "path", rec.Path, "route", rec.Route,
		"status", rec.Status, "fault", rec.Fault != nil)
}
