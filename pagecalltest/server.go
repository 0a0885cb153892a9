package pagecalltest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// TB is the part of testing.TB that NewTestServer uses. The package does not
// import "testing" so that non-test programs (the CLI's demo) can link it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Server is a mock Pagecall API on a loopback address. It answers every
// operation of its OpenAPI document after validating the request against it,
// keeps users in memory, logs requests and injects faults. Its methods are
// safe for concurrent use.
type Server struct {
	spec    *spec
	apiKey  string
	maxBody int64
	logger  *slog.Logger
	ln      net.Listener
	srv     *http.Server
	url     string

	done      chan struct{} // closed when Close starts
	served    chan struct{} // closed when Serve returns
	closeOnce sync.Once
	handlers  sync.WaitGroup
	hooks     deliverer // webhook deliveries
	control   bool      // WithControlEndpoint

	maxRequests int // WithMaxRequests; -1 for no cap

	mu       sync.Mutex // guards the fields below
	closed   bool
	faults   []*queuedFault
	requests []Request
	store    *store
	drift    []Drift // PlantDrift
}

// NewServer starts a server on DefaultAddr (see the options) and returns it
// once it accepts connections. Call Close when done.
func NewServer(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	sp, err := loadSpec(cfg.openapi, cfg.overlay)
	if err != nil {
		return nil, err
	}
	ln := cfg.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.addr); err != nil {
			return nil, fmt.Errorf("pagecalltest: %w", err)
		}
	}
	s := &Server{
		spec:    sp,
		apiKey:  cfg.apiKey,
		maxBody: cfg.maxBody,

		maxRequests: cfg.maxRequests,
		logger:      cfg.logger,
		ln:          ln,
		url:         "http://" + ln.Addr().String() + sp.basePath,
		done:        make(chan struct{}),
		served:      make(chan struct{}),
		store:       newStore(sp.doc),
	}
	s.hooks, s.control = newDeliverer(cfg), cfg.control
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.logger.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("pagecalltest: serve", "err", err)
		}
	}()
	s.logger.Info("pagecalltest: serving", "url", s.url)
	return s, nil
}

// NewTestServer is NewServer for tests: it fails tb if the server cannot
// start and closes the server when the test ends.
func NewTestServer(tb TB, opts ...Option) *Server {
	tb.Helper()
	s, err := NewServer(opts...)
	if err != nil {
		tb.Fatalf("pagecalltest: %v", err)
		return nil
	}
	tb.Cleanup(s.Close)
	return s
}

// URL is the base URL of the API, the document's base path included, e.g.
// "http://127.0.0.1:41234/v1".
func (s *Server) URL() string { return s.url }

// Addr is the address the server listens on, e.g. "127.0.0.1:41234".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// APIKey is the bearer token the server accepts.
func (s *Server) APIKey() string { return s.apiKey }

// Close stops the server: it stops accepting, closes every connection, ends
// the wait of delayed requests, and returns once every handler has returned.
// It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.done)
		_ = s.srv.Close()
		<-s.served
		s.handlers.Wait()
	})
}

// enter registers a running handler, or reports false once Close started.
// Holding mu orders every Add before Close's Wait.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.handlers.Add(1)
	return true
}

// ServeHTTP answers one request: fault injection, then routing, the API key
// check and validation against the document, then the answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		w.Header().Set("Connection", "close")
		s.write(w, http.StatusServiceUnavailable, mustJSON(errorBody("server closed")))
		return
	}
	defer s.handlers.Done()
	if s.control && strings.HasPrefix(r.URL.Path, ControlPrefix) {
		s.serveControl(w, r) // not the API: not validated, faulted or logged
		return
	}

	rec := &Request{
		Method:   r.Method,
		Path:     r.URL.EscapedPath(),
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Time:     time.Now(),
	}
	// The request is logged just before its answer goes out, so that a
	// client that got the answer (and may retry at once) finds its request
	// in the log; a request whose delay was cut short is logged on the way
	// out.
	logged := false
	logNow := func() { logged = true; s.logRequest(rec) }
	defer func() {
		if !logged {
			s.logRequest(rec)
		}
	}()

	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	rec.Body = body
	r.Body = io.NopCloser(bytes.NewReader(body))

	route, params, routeErr := s.spec.router.FindRoute(r)
	template := ""
	if route != nil {
		template = route.Path
		rec.Route = route.Method + " " + route.Path
		rec.OperationID = route.Operation.OperationID
	}

	fault := s.takeFault(r.Method, template, rec.Path)
	rec.Fault = fault
	if fault != nil && fault.Delay > 0 && !s.sleep(r.Context(), fault.Delay) {
		// Returning would make net/http send an empty 200; aborting
		// drops the connection unanswered. Deferred calls still run.
		panic(http.ErrAbortHandler)
	}
	if fault != nil && fault.Reset {
		logNow()
		s.reset(w)
		return
	}

	var (
		status  int
		payload []byte
	)
	if fault != nil && fault.Status != 0 {
		status, payload = fault.Status, fault.Body
		if payload == nil {
			payload = mustJSON(errorBody("injected fault: " + http.StatusText(status)))
		}
		if fault.RetryAfter != "" {
			w.Header().Set("Retry-After", fault.RetryAfter)
		}
	} else {
		var v any
		status, v = s.answer(w, r, readErr, route, params, routeErr, body)
		if route != nil && status >= 400 && status < 500 {
			// The mock answers only what the document declares: a
			// client error the operation does not list (a 413, say)
			// becomes the one it does (TestErrorAnswersAreDeclared).
			status = declaredStatus(route.Operation, status)
		}
		if v != nil {
			payload = mustJSON(v)
		}
		// Planted drift goes in last, past the answer's own checks, on
		// purpose (drift.go).
		payload = s.applyDrift(rec.OperationID, status, payload)
	}
	rec.Status, rec.Response = status, payload
	logNow()
	if fault != nil && fault.Truncate {
		s.writeTruncated(w, status, payload)
		return
	}
	s.write(w, status, payload)
}

// answer validates the request and returns the status and JSON body of the
// normal (fault-free) answer.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, readErr error, route *routers.Route, params map[string]string, routeErr error, body []byte) (int, any) {
	if readErr != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](readErr); ok {
			return http.StatusRequestEntityTooLarge, errorBody("request body too large")
		}
		return http.StatusBadRequest, errorBody("reading request body: " + readErr.Error())
	}
	if routeErr != nil {
		if allowed := s.allowedMethods(r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			return http.StatusMethodNotAllowed, errorBody(fmt.Sprintf("method %s not allowed for %s", r.Method, r.URL.EscapedPath()))
		}
		return http.StatusNotFound, errorBody(fmt.Sprintf("no operation for %s %s", r.Method, r.URL.EscapedPath()))
	}

	err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: s.authenticate,
			// Defaults are not written into the request: an update must
			// change only the fields the client sent.
			SkipSettingDefaults: true,
		},
	})
	if se, ok := errors.AsType[*openapi3filter.SecurityRequirementsError](err); ok {
		status := authStatus(route.Operation)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pagecall"`)
		}
		msg := "unauthorized"
		if len(se.Errors) > 0 {
			if re, ok := errors.AsType[*openapi3filter.RequestError](se.Errors[0]); ok && re.Err != nil {
				msg = re.Err.Error()
			}
		}
		// The status the document declares for a refused key (400 on
		// Pagecall's, whose 400 reads "...Unauthenticated or
		// Unauthorized"); 401 only where the operation declares it. A test
		// that wants a 401 injects it: Fault{Status: 401}.
		return status, errorBody(msg)
	}
	if err != nil {
		return http.StatusBadRequest, errorBody(describe(err))
	}

	s.mu.Lock()
	a := s.respond(route, params, r.URL.Query(), body)
	s.mu.Unlock()
	return a.status, a.body
}

// describe is a one-line account of a validation error. kin-openapi's
// SchemaError.Error() appends the whole schema; only the reason and the
// location in the value are kept here.
func describe(err error) string {
	msg := err.Error()
	re, isRequestErr := errors.AsType[*openapi3filter.RequestError](err)
	if isRequestErr && re.Err != nil {
		msg = re.Err.Error()
	}
	if se, ok := errors.AsType[*openapi3.SchemaError](err); ok {
		msg = se.Reason
		if ptr := se.JSONPointer(); len(ptr) > 0 {
			msg = fmt.Sprintf("%s (at /%s)", msg, strings.Join(ptr, "/"))
		}
	}
	if isRequestErr {
		switch {
		case re.Parameter != nil:
			return fmt.Sprintf("parameter %q in %s: %s", re.Parameter.Name, re.Parameter.In, msg)
		case re.RequestBody != nil:
			return "request body: " + msg
		}
	}
	return msg
}

// allowedMethods lists the methods the document declares for the request's
// path. kin-openapi's legacy router reports "method not allowed" only for
// paths without parameters, so the mock asks the router again per method.
func (s *Server) allowedMethods(r *http.Request) []string {
	var allowed []string
	for _, m := range []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodOptions,
		http.MethodPatch, http.MethodPost, http.MethodPut, http.MethodTrace} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if route, _, err := s.spec.router.FindRoute(probe); err == nil && route != nil {
			allowed = append(allowed, m)
		}
	}
	return allowed
}

// authenticate is the AuthenticationFunc for request validation: a real
// check of the credential against the configured key, in constant time.
// It supports HTTP bearer schemes and apiKey schemes.
func (s *Server) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	sch := in.SecurityScheme
	var got string
	switch {
	case sch.Type == "http" && strings.EqualFold(sch.Scheme, "bearer"):
		h := r.Header.Get("Authorization")
		if len(h) > len("Bearer ") && strings.EqualFold(h[:len("Bearer ")], "Bearer ") {
			got = strings.TrimSpace(h[len("Bearer "):])
		}
	case sch.Type == "apiKey":
		switch sch.In {
		case openapi3.ParameterInHeader:
			got = r.Header.Get(sch.Name)
		case openapi3.ParameterInQuery:
			got = r.URL.Query().Get(sch.Name)
		case openapi3.ParameterInCookie:
			if c, err := r.Cookie(sch.Name); err == nil {
				got = c.Value
			}
		}
	default:
		return in.NewError(fmt.Errorf("security scheme %q of type %q is not supported by the mock", in.SecuritySchemeName, sch.Type))
	}
	if got == "" {
		return in.NewError(errors.New("missing API key"))
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.apiKey)) != 1 {
		return in.NewError(errors.New("invalid API key"))
	}
	return nil
}

func (s *Server) write(w http.ResponseWriter, status int, payload []byte) {
	if payload != nil {
		w.Header().Set("Content-Type", contentType(payload))
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
	}
	w.WriteHeader(status)
	if _, err := w.Write(payload); err != nil {
		s.logger.Debug("pagecalltest: write response", "err", err)
	}
}

// writeTruncated promises more body than it sends, then closes the
// connection so that the client reads an unexpected EOF.
func (s *Server) writeTruncated(w http.ResponseWriter, status int, payload []byte) {
	w.Header().Set("Content-Type", contentType(payload))
	w.Header().Set("Content-Length", strconv.Itoa(len(payload)+64))
	w.WriteHeader(status)
	_, _ = w.Write(payload[:len(payload)/2])
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if conn, _, err := rc.Hijack(); err == nil {
		_ = conn.Close()
	}
	// If hijacking fails, net/http still closes the connection, since the
	// handler wrote less than the Content-Length it declared.
}

func contentType(payload []byte) string {
	if json.Valid(payload) {
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(`{"message":"pagecalltest: cannot encode response"}`)
	}
	return b
}

// now is the time the store stamps on users.
func (s *Server) now() time.Time { return time.Now() }

// UserExists reports whether the store holds the user id.
func (s *Server) UserExists(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.store.users.get(id)
	return ok
}

// AddUser creates or replaces the user id, as CreateUser does, with those
// fields the document's User schema declares; fields may be nil. Unlike a
// request, fields may set what the server mints, such as access_token; a
// user given none keeps its token, or gets a new one.
func (s *Server) AddUser(id string, fields map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store.putUser(id, fields, s.now())
}

// User returns a copy of the stored user id as a JSON object.
func (s *Server) User(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.users.get(id)
}

// UserIDs returns the IDs of the stored users, sorted.
func (s *Server) UserIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.store.users.items))
}

// Operation is one operation of the document the server serves.
type Operation struct {
	// Method is the HTTP method, e.g. "DELETE".
	Method string
	// Path is the path template below the base URL, e.g. "/users/{user_id}".
	Path string
	// OperationID is the operation's operationId.
	OperationID string
}

// Operations lists the operations the server answers, sorted by path and
// method.
func (s *Server) Operations() []Operation {
	var out []Operation
	for _, r := range s.spec.operations() {
		out = append(out, Operation{Method: r.Method, Path: r.Path, OperationID: r.Operation.OperationID})
	}
	return out
}

// Room returns a copy of the stored room id as a JSON object.
func (s *Server) Room(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.rooms.get(id)
}

// RoomIDs returns the IDs of the stored rooms, in creation order.
func (s *Server) RoomIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, r := range s.store.rooms.list(nil) {
		ids = append(ids, r["id"].(string))
	}
	return ids
}

// Members returns copies of the members of room id, in the order they were
// added.
func (s *Server) Members(roomID string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.store.members[roomID]; !ok {
		return nil
	}
	return s.store.roomMembers(roomID).list(nil)
}
