package pagecall

// Benchmarks for issues #5 and #9: what the SDK costs over hand-written
// net/http, and what a generated method costs over what it wraps.
//
// Every benchmark talks to one loopback httptest server per protocol, shared
// by all variants in the process, which counts the TCP connections it
// accepts. Each benchmark run builds its clients afresh, so "conns" is the
// number of connections that run opened, and closes their idle connections
// at the end so that runs do not inherit each other's pools.
//
// BenchmarkDeleteUser runs every variant over each protocol (proto=…):
//
//	http      plain HTTP/1.1 (the only one the other benchmarks use)
//	https-h1  TLS, the server offering only http/1.1 in ALPN
//	https-h2  TLS, the server offering only h2 (EnableHTTP2)
//
// Over TLS every variant trusts the server's certificate through
// TLSClientConfig.RootCAs on its own transport, and nothing else changes:
// no variant has a TLS session cache, so every new connection costs a full
// handshake, as it does for http.DefaultTransport in production.
//
// Variants of BenchmarkDeleteUser (impl=…):
//
//	floor  hand-written net/http: tuned transport, reused client,
//	       io.ReadAll + json.Unmarshal, Authorization header
//	safe   the equal-safety floor: the same, with the SDK's default
//	       transport timeouts and per-call deadline (DefaultTimeout)
//	sdk    (*Client).DeleteUser with the SDK's default HTTP client
//	gen    the bare generated client with a bearer request editor over the
//	       same tuned transport as floor
//	naive  hand-written, but &http.Client{} over http.DefaultTransport
//	       (2 idle connections per host); over TLS, a clone of
//	       http.DefaultTransport with only RootCAs set
//
// each with callers=1 (sequential) and callers=64 (RunParallel with enough
// goroutines per P to make 64). Run them through `make bench`, which bounds
// b.N with -benchtime=Nx: the naive variant opens a connection for most calls
// at 64 callers, and each leaves a TIME_WAIT socket behind.
//
// Targets are reported as ratios in docs/BENCHMARKS.md, never asserted here:
// timings depend on the machine and its load. Only TestHugeBodyAllocation
// asserts, and it asserts bytes allocated, not time.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/pplink/pagecall-go/internal/wire"
)

const (
	benchAPIKey = "pk_bench_TfowtRYBs0E_trzoTaCmAXKzB1JxDDhi"
	benchUserID = "external_user_102932"
	// benchCallers is the number of concurrent callers of the parallel runs.
	benchCallers = 64
	// benchHugeBody is what the huge-body handler claims, or streams, at most.
	benchHugeBody = 2 << 30
	// benchHugeAllocLimit is what a refused huge body may cost in allocation.
	benchHugeAllocLimit = 32 << 20
)

// benchUserJSON is a DeleteUser 200 answer shaped like the spec's example.
var benchUserJSON = []byte(`{"user":{"user_id":"external_user_102932","name":"scotty",` +
	`"profile_url":"https://www.gravatar.com/avatar/00000000000000000000000000000000?d=mp&f=y",` +
	`"default_member_type":"guest","access_token":"TfowtRYBs0E_trzoTaCmAXKzB1JxDDhi",` +
	`"created_at":"2023-01-01T01:00:00.000Z","updated_at":"2023-01-01T01:00:00.000Z"}}`)

// benchUnavailableJSON is the small body of the flaky handler's 503.
var benchUnavailableJSON = []byte(`{"message":"service unavailable, try again"}`)

// benchServer is a loopback server the benchmarks share.
type benchServer struct {
	*httptest.Server
	roots    *x509.CertPool // trusts the server's certificate; nil for plain HTTP
	conns    atomic.Int64   // TCP connections accepted (ConnState StateNew)
	attempts atomic.Int64   // requests to /flaky, for its 1-in-3 failures
	// seen is the last request's r.ProtoMajor, plus 10 if it came over
	// TLS, for TestBenchProtocols. (An int: storing r.Proto in an
	// atomic.Value would allocate in every benchmark's server.)
	seen atomic.Int32
}

// benchProtos are BenchmarkDeleteUser's protocols, in the order it runs them.
var benchProtos = []string{"http", "https-h1", "https-h2"}

var (
	benchSrvMu sync.Mutex
	benchSrvs  = map[string]*benchServer{}
)

// benchServerGet returns the shared plain-HTTP server.
func benchServerGet() *benchServer { return benchServerFor("http") }

// benchServerFor starts the shared server for proto (one of benchProtos) on
// first use. It lives until the test binary exits: it is shared by
// benchmarks that run one after another.
func benchServerFor(proto string) *benchServer {
	benchSrvMu.Lock()
	defer benchSrvMu.Unlock()
	if s := benchSrvs[proto]; s != nil {
		return s
	}
	s := &benchServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	// Writes to a client that gave up on a huge body fail; say nothing.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	switch proto {
	case "http":
		s.Start()
	case "https-h1", "https-h2":
		// StartTLS offers only http/1.1 in ALPN, or only h2 with EnableHTTP2.
		s.EnableHTTP2 = proto == "https-h2"
		s.StartTLS()
		s.roots = x509.NewCertPool()
		s.roots.AddCert(s.Certificate())
	default:
		panic("benchServerFor: unknown protocol " + proto)
	}
	benchSrvs[proto] = s
	return s
}

// trust makes hc's transport, which must be an *http.Transport not yet
// used, trust the server's certificate, and returns hc. It sets only
// TLSClientConfig.RootCAs, and does nothing for a plain-HTTP server.
func (s *benchServer) trust(hc *http.Client) *http.Client {
	if s.roots != nil {
		hc.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: s.roots}
	}
	return hc
}

// serve routes on the first path segment:
//
//	/v1/users/{id}             200 with benchUserJSON
//	/v1/rooms…                 benchServeRooms
//	/flaky/v1/users/{id}       the same, but every third request gets a 503
//	/huge-cl/v1/users/{id}     200 claiming Content-Length 2 GiB
//	/huge-chunked/v1/users/{id} 200 streaming up to 2 GiB, chunked
//
// Every route requires the bench API key, as the real API does.
func (s *benchServer) serve(w http.ResponseWriter, r *http.Request) {
	seen := int32(r.ProtoMajor)
	if r.TLS != nil {
		seen += 10
	}
	s.seen.Store(seen)
	if r.Header.Get("Authorization") != "Bearer "+benchAPIKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/v1/rooms") {
		benchServeRooms(w, r)
		return
	}
	if r.Method != http.MethodDelete {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	prefix, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	h := w.Header()
	switch prefix {
	case "flaky":
		if s.attempts.Add(1)%3 == 0 {
			h["Content-Type"] = []string{"application/json"}
			h["Content-Length"] = []string{strconv.Itoa(len(benchUnavailableJSON))}
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write(benchUnavailableJSON)
			return
		}
	case "huge-cl", "huge-chunked":
		h["Content-Type"] = []string{"application/json"}
		if prefix == "huge-cl" {
			h["Content-Length"] = []string{strconv.Itoa(benchHugeBody)}
		}
		benchStreamHuge(w)
		return
	}
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(benchUserJSON))}
	_, _ = w.Write(benchUserJSON)
}

// benchStreamHuge writes up to benchHugeBody bytes of a JSON-looking body
// from one reused chunk, so the server allocates nothing per byte. It stops
// at the first write error, which is what a client that gives up causes.
func benchStreamHuge(w http.ResponseWriter) {
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = 'a' + byte(i%26)
	}
	_, _ = w.Write([]byte(`{"user":{"name":"`))
	for sent := 0; sent < benchHugeBody-len(chunk); sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// benchTunedClient is the hand-written floor's HTTP client: one transport
// that keeps an idle connection for each of the 64 callers.
func benchTunedClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          128,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// benchHandDelete is DeleteUser written by hand with net/http.
func benchHandDelete(ctx context.Context, hc *http.Client, base, auth, id string) (*User, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base+"/users/"+id, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var out struct {
		User User `json:"user"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	return &out.User, nil
}

// benchCall is one DeleteUser call of a variant.
type benchCall func(ctx context.Context) error

// benchImpl builds a variant's client against server s for one benchmark
// run and returns its call and a cleanup that closes the client's idle
// connections.
type benchImpl struct {
	name  string
	setup func(tb testing.TB, s *benchServer) (benchCall, func())
}

var benchImpls = []benchImpl{
	{"floor", func(tb testing.TB, s *benchServer) (benchCall, func()) {
		hc := s.trust(benchTunedClient())
		base := s.URL + "/v1"
		return func(ctx context.Context) error {
			_, err := benchHandDelete(ctx, hc, base, "Bearer "+benchAPIKey, benchUserID)
			return err
		}, hc.CloseIdleConnections
	}},
	{"safe", func(tb testing.TB, s *benchServer) (benchCall, func()) {
		// The equal-safety floor: hand-written, with the SDK's default
		// transport (its dial, TLS and response-header timeouts) and the
		// SDK's default per-call deadline.
		hc := s.trust(newDefaultHTTPClient())
		base := s.URL + "/v1"
		return func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
			defer cancel()
			_, err := benchHandDelete(ctx, hc, base, "Bearer "+benchAPIKey, benchUserID)
			return err
		}, hc.CloseIdleConnections
	}},
	{"sdk", func(tb testing.TB, s *benchServer) (benchCall, func()) {
		var opts []Option
		if s.roots != nil {
			// The SDK's own default client, trusting the test certificate.
			opts = append(opts, WithHTTPClient(s.trust(newDefaultHTTPClient())))
		}
		c := benchNewSDK(tb, s.URL+"/v1", opts...)
		return func(ctx context.Context) error {
			_, err := c.DeleteUser(ctx, benchUserID)
			return err
		}, c.loop.hc.CloseIdleConnections
	}},
	{"gen", func(tb testing.TB, s *benchServer) (benchCall, func()) {
		hc := s.trust(benchTunedClient())
		return benchGenCall(tb, hc, s.URL, 0), hc.CloseIdleConnections
	}},
	{"naive", func(tb testing.TB, s *benchServer) (benchCall, func()) {
		hc := &http.Client{}
		if s.roots != nil {
			// Still naive: http.DefaultTransport's settings (2 idle
			// connections per host, no session cache), plus only the root.
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.TLSClientConfig = &tls.Config{RootCAs: s.roots}
			hc.Transport = tr
		}
		base := s.URL + "/v1"
		return func(ctx context.Context) error {
				_, err := benchHandDelete(ctx, hc, base, "Bearer "+benchAPIKey, benchUserID)
				return err
			}, func() {
				if hc.Transport != nil {
					hc.CloseIdleConnections()
					return
				}
				http.DefaultTransport.(*http.Transport).CloseIdleConnections()
			}
	}},
}

// benchImplNamed returns the variant of BenchmarkDeleteUser with this name.
func benchImplNamed(b *testing.B, name string) benchImpl {
	for _, im := range benchImpls {
		if im.name == name {
			return im
		}
	}
	b.Fatalf("no variant %q", name)
	return benchImpl{}
}

// benchNewSDK returns a Client with the SDK's default HTTP client.
func benchNewSDK(b testing.TB, baseURL string, opts ...Option) *Client {
	c, err := NewClient(append([]Option{WithAPIKey(benchAPIKey), WithBaseURL(baseURL)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchPerP is the RunParallel parallelism that makes benchCallers
// goroutines whatever GOMAXPROCS is (SetParallelism(32) on 2 cores).
func benchPerP() int {
	return (benchCallers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
}

// benchRun runs call b.N times with the given number of callers (1 or
// benchCallers), and reports the connections server s accepted meanwhile
// as "conns" (per run) and "conns/op". If fatal is set any error fails the
// benchmark; otherwise errors are reported as "errors/op".
func benchRun(b *testing.B, s *benchServer, callers int, call benchCall, fatal bool) {
	b.Helper()
	ctx := context.Background()
	var (
		errs     atomic.Int64
		firstErr atomic.Pointer[error]
	)
	fail := func(err error) {
		if errs.Add(1) == 1 {
			firstErr.Store(&err)
		}
	}
	b.ReportAllocs()
	conns0 := s.conns.Load()
	b.ResetTimer()
	if callers == 1 {
		for range b.N {
			if err := call(ctx); err != nil {
				fail(err)
			}
		}
	} else {
		b.SetParallelism(benchPerP())
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := call(ctx); err != nil {
					fail(err)
				}
			}
		})
	}
	b.StopTimer()
	conns := s.conns.Load() - conns0
	b.ReportMetric(float64(conns), "conns")
	b.ReportMetric(float64(conns)/float64(b.N), "conns/op")
	n := errs.Load()
	if n > 0 && fatal {
		b.Fatalf("%d of %d calls failed; first: %v", n, b.N, *firstErr.Load())
	}
	if !fatal {
		b.ReportMetric(float64(n)/float64(b.N), "errors/op")
	}
}

// BenchmarkDeleteUser compares the SDK with hand-written net/http, the bare
// generated client and a naive client, sequentially and with 64 callers,
// over plain HTTP and over TLS with and without HTTP/2, every variant of a
// protocol against the same loopback server in the same process.
func BenchmarkDeleteUser(b *testing.B) {
	for _, proto := range benchProtos {
		s := benchServerFor(proto)
		for _, callers := range []int{1, benchCallers} {
			for _, impl := range benchImpls {
				b.Run(fmt.Sprintf("proto=%s/callers=%d/impl=%s", proto, callers, impl.name), func(b *testing.B) {
					call, cleanup := impl.setup(b, s)
					defer cleanup()
					benchRun(b, s, callers, call, true)
				})
			}
		}
	}
}

// BenchmarkDeleteUserCost splits the sequential gap between the floor and
// the SDK into steps, each adding one thing to the one before:
//
//	floor      hand-written net/http over the floor's tuned transport
//	transport  the same over the SDK's default transport, whose
//	           ResponseHeaderTimeout (30s) starts a timer per request
//	timeout    plus a per-call context.WithTimeout(DefaultTimeout), which
//	           the SDK adds when the caller's context has no deadline
//	gen        the generated client instead of the hand-written request
//	           and parsing, over the same transport, with the same timeout
//	sdk        (*Client).DeleteUser: adds buffering the body for retries,
//	           URL checks, the retry loop and error mapping
//
// benchGenCall returns a call of the bare generated client over hc with a
// bearer request editor; with timeout > 0 each call gets that deadline, as
// the SDK gives a call whose context has none.
func benchGenCall(tb testing.TB, hc *http.Client, base string, timeout time.Duration) benchCall {
	auth := "Bearer " + benchAPIKey
	g, err := wire.NewClientWithResponses(base+"/v1", wire.WithHTTPClient(hc),
		wire.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", auth)
			return nil
		}))
	if err != nil {
		tb.Fatal(err)
	}
	return func(ctx context.Context) error {
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		resp, err := g.DeleteUserWithResponse(ctx, benchUserID)
		if err != nil {
			return err
		}
		if resp.StatusCode() != http.StatusOK || resp.JSON200 == nil {
			return fmt.Errorf("status %d", resp.StatusCode())
		}
		return nil
	}
}

func BenchmarkDeleteUserCost(b *testing.B) {
	s := benchServerGet()
	base := s.URL
	auth := "Bearer " + benchAPIKey
	steps := []struct {
		name  string
		setup func(b *testing.B) (benchCall, func())
	}{
		{"floor", func(b *testing.B) (benchCall, func()) { return benchImplNamed(b, "floor").setup(b, s) }},
		{"transport", func(b *testing.B) (benchCall, func()) {
			hc := newDefaultHTTPClient()
			return func(ctx context.Context) error {
				_, err := benchHandDelete(ctx, hc, base+"/v1", auth, benchUserID)
				return err
			}, hc.CloseIdleConnections
		}},
		{"timeout", func(b *testing.B) (benchCall, func()) {
			hc := newDefaultHTTPClient()
			return func(ctx context.Context) error {
				ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
				defer cancel()
				_, err := benchHandDelete(ctx, hc, base+"/v1", auth, benchUserID)
				return err
			}, hc.CloseIdleConnections
		}},
		{"gen", func(b *testing.B) (benchCall, func()) {
			hc := newDefaultHTTPClient()
			return benchGenCall(b, hc, base, DefaultTimeout), hc.CloseIdleConnections
		}},
		{"sdk", func(b *testing.B) (benchCall, func()) { return benchImplNamed(b, "sdk").setup(b, s) }},
	}
	for _, st := range steps {
		b.Run("step="+st.name, func(b *testing.B) {
			call, cleanup := st.setup(b)
			defer cleanup()
			benchRun(b, s, 1, call, true)
		})
	}
}

// BenchmarkRetries runs the SDK against a server that answers 503 with a
// small body to every third attempt and against one that never fails
// (failures=none), with a tiny backoff. A failed attempt's body is drained
// so that its connection is reused: the failing runs should open no more
// connections than the none run. It reports attempts/op and errors/op.
//
// failures=1in3 keeps the client-wide retry budget as it is: the retries
// succeed and give back the tokens their failures took, so it stays full.
// failures=1in3-refilled refills the budget before every call anyway, as a
// control that the budget costs nothing here.
func BenchmarkRetries(b *testing.B) {
	s := benchServerGet()
	tiny := WithRetryPolicy(RetryPolicy{
		MaxRetries:     2,
		InitialBackoff: time.Microsecond,
		MaxBackoff:     time.Microsecond,
	})
	for _, callers := range []int{1, benchCallers} {
		for _, f := range []struct {
			name, prefix string
			refill       bool
		}{{"none", "/v1", false}, {"1in3", "/flaky/v1", false}, {"1in3-refilled", "/flaky/v1", true}} {
			b.Run(fmt.Sprintf("callers=%d/failures=%s", callers, f.name), func(b *testing.B) {
				c := benchNewSDK(b, s.URL+f.prefix, tiny)
				tr := c.loop.hc.Transport.(*http.Transport)
				defer tr.CloseIdleConnections()
				// Count attempts for both routes the same way: in the HTTP
				// client the SDK sends with.
				var tried atomic.Int64
				c.loop.hc.Transport = benchCountingRT{tr, &tried}
				benchRun(b, s, callers, func(ctx context.Context) error {
					if f.refill {
						c.loop.budget.left.Store(budgetCapacity)
					}
					_, err := c.DeleteUser(ctx, benchUserID)
					return err
				}, false)
				b.ReportMetric(float64(tried.Load())/float64(b.N), "attempts/op")
			})
		}
	}
}

// benchCountingRT counts the requests sent through it.
type benchCountingRT struct {
	http.RoundTripper
	n *atomic.Int64
}

func (rt benchCountingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.n.Add(1)
	return rt.RoundTripper.RoundTrip(req)
}

// BenchmarkHugeBody measures what a refused 2 GiB answer costs the SDK, with
// the size announced in Content-Length (refused from the header) and
// streamed chunked (refused once the 10 MiB default limit is passed). B/op
// is the figure to read; TestHugeBodyAllocation asserts it. Run it with a
// small -benchtime (make bench uses 10x): each chunked op moves 10 MiB.
func BenchmarkHugeBody(b *testing.B) {
	s := benchServerGet()
	for _, mode := range []string{"content-length", "chunked"} {
		b.Run("mode="+mode, func(b *testing.B) {
			c := benchNewSDK(b, s.URL+benchHugePrefix(mode)+"/v1", WithMaxRetries(0))
			defer c.loop.hc.CloseIdleConnections()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.DeleteUser(context.Background(), benchUserID); !errors.Is(err, ErrResponseTooLarge) {
					b.Fatalf("got %v, want ErrResponseTooLarge", err)
				}
			}
		})
	}
}

func benchHugePrefix(mode string) string {
	if mode == "chunked" {
		return "/huge-chunked"
	}
	return "/huge-cl"
}

// TestBenchProtocols checks that each variant of BenchmarkDeleteUser speaks
// the protocol its name says, over the connection kind it says: a TLS
// variant that fell back to plain HTTP, or to HTTP/1.1 where h2 is offered,
// would measure the wrong thing without failing.
func TestBenchProtocols(t *testing.T) {
	// r.ProtoMajor, plus 10 over TLS.
	want := map[string]int32{"http": 1, "https-h1": 11, "https-h2": 12}
	for _, proto := range benchProtos {
		s := benchServerFor(proto)
		if tls := strings.HasPrefix(s.URL, "https://"); tls != (s.roots != nil) || tls != (proto != "http") {
			t.Fatalf("%s: server URL %s", proto, s.URL)
		}
		for _, impl := range benchImpls {
			call, cleanup := impl.setup(t, s)
			s.seen.Store(0)
			err := call(context.Background())
			cleanup()
			if got := s.seen.Load(); err != nil || got != want[proto] {
				t.Errorf("proto=%s/impl=%s: err %v, server saw %d, want %d (ProtoMajor, +10 over TLS)", proto, impl.name, err, got, want[proto])
			}
		}
	}
}

// TestHugeBodyAllocation checks that a 2 GiB answer, announced or streamed,
// costs less than 32 MiB of allocation before DeleteUser returns
// ErrResponseTooLarge. It measures the process's TotalAlloc, so it does not
// run in parallel with other tests.
func TestHugeBodyAllocation(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 10 MiB over loopback")
	}
	s := benchServerGet()
	for _, mode := range []string{"content-length", "chunked"} {
		t.Run(mode, func(t *testing.T) {
			c := benchNewSDK(t, s.URL+benchHugePrefix(mode)+"/v1", WithMaxRetries(0))
			defer c.loop.hc.CloseIdleConnections()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := c.DeleteUser(context.Background(), benchUserID)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrResponseTooLarge) {
				t.Fatalf("got %v, want ErrResponseTooLarge", err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: %.1f MiB allocated before the error", mode, float64(alloc)/(1<<20))
			if alloc >= benchHugeAllocLimit {
				t.Errorf("%s: allocated %d bytes (%.1f MiB), want < 32 MiB", mode, alloc, float64(alloc)/(1<<20))
			}
		})
	}
}

// TestReadUpTo checks readUpTo against the plain reading it replaced,
// io.ReadAll over io.LimitReader(r, limit+1), for sizes around the limit,
// right and unknown size hints, and readers that return little at a time.
func TestReadUpTo(t *testing.T) {
	const limit = 5000
	for _, size := range []int{0, 1, 511, 512, 513, 4096, limit - 1, limit, limit + 1, 3 * limit} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		for _, hint := range []int64{-1, int64(size)} {
			for _, wrap := range []struct {
				name string
				f    func(io.Reader) io.Reader
			}{{"plain", func(r io.Reader) io.Reader { return r }}, {"onebyte", iotest.OneByteReader}, {"half", iotest.HalfReader}} {
				for _, wantPrefix := range []bool{false, true} {
					name := fmt.Sprintf("size=%d/hint=%d/%s/prefix=%v", size, hint, wrap.name, wantPrefix)
					want, _ := io.ReadAll(io.LimitReader(bytes.NewReader(data), limit+1))
					wantMore := len(want) > limit
					switch {
					case wantMore && wantPrefix:
						want = want[:limit]
					case wantMore:
						want = nil
					}
					got, more, err := readUpTo(wrap.f(bytes.NewReader(data)), hint, limit, wantPrefix)
					if err != nil || more != wantMore || !bytes.Equal(got, want) {
						t.Errorf("%s: got %d bytes, more %v, err %v; want %d bytes, more %v", name, len(got), more, err, len(want), wantMore)
					}
				}
			}
		}
	}
	// A read error ends the read with what came before it.
	r := io.MultiReader(bytes.NewReader([]byte("partial")), iotest.ErrReader(io.ErrUnexpectedEOF))
	if got, more, err := readUpTo(r, -1, limit, true); string(got) != "partial" || more || err != io.ErrUnexpectedEOF {
		t.Errorf("read error: got %q, %v, %v", got, more, err)
	}
	// A reader that never makes progress is not read forever.
	if _, _, err := readUpTo(benchStuckReader{}, -1, limit, true); err != io.ErrNoProgress {
		t.Errorf("stuck reader: got %v, want io.ErrNoProgress", err)
	}
}

// benchStuckReader returns 0, nil forever.
type benchStuckReader struct{}

func (benchStuckReader) Read([]byte) (int, error) { return 0, nil }

// benchRoomJSON is a room as GetRoom and CreateRoom answer it.
var benchRoomJSON = []byte(`{"room":{"id":"000585f36eed9e8fb6b655b4","name":"standup","type":"private",` +
	`"record":false,"is_terminated":false,"layout":"SixAll","created_at":"2023-01-01T01:00:00.000Z"}}`)

// benchRoomsTotal is how many rooms GET /v1/rooms lists.
const benchRoomsTotal = 10000

// benchServeRooms answers GET /v1/rooms/{id} and POST /v1/rooms with
// benchRoomJSON, and GET /v1/rooms with the page that offset and limit
// select of benchRoomsTotal rooms (or of the total query parameter's
// number, for the benchmarks that list fewer), as Pagecall pages.
func benchServeRooms(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	if r.URL.Path != "/v1/rooms" || r.Method == http.MethodPost {
		h["Content-Length"] = []string{strconv.Itoa(len(benchRoomJSON))}
		_, _ = w.Write(benchRoomJSON)
		return
	}
	q := r.URL.Query()
	total := benchRoomsTotal
	if n, err := strconv.Atoi(r.Header.Get("X-Bench-Total")); err == nil {
		total = n
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil {
		limit = 30
	}
	var b bytes.Buffer
	b.WriteString(`{"rooms":[`)
	for i := offset; i < min(offset+limit, total); i++ {
		if i > offset {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%024x","name":"room %d","type":"open","record":true,"created_at":"2023-01-01T01:00:00.000Z"}`, i, i)
	}
	fmt.Fprintf(&b, `],"paging":{"limit":%d,"offset":%d,"total":%d}}`, limit, offset, total)
	h["Content-Length"] = []string{strconv.Itoa(b.Len())}
	_, _ = w.Write(b.Bytes())
}

// BenchmarkMethods compares each generated method with the same request
// through Client.Do, through the same Client against the same server: the
// method's own cost is its path checks, its idempotency mark and the
// unwrapping of the answer. DeleteUser and GetRoom have a path parameter,
// CreateRoom a body.
func BenchmarkMethods(b *testing.B) {
	s := benchServerGet()
	ctx := context.Background()
	body := CreateRoomRequest{Name: "standup", Type: RoomTypePrivate, Record: Ptr(false)}
	calls := []struct {
		op            string
		method, check func(c *Client) error
	}{
		{"DeleteUser",
			func(c *Client) error { _, err := c.DeleteUser(ctx, benchUserID); return err },
			func(c *Client) error {
				var out json.RawMessage
				return c.Do(ctx, "DELETE", "/users/"+benchUserID, nil, &out)
			}},
		{"GetRoom",
			func(c *Client) error { _, err := c.GetRoom(ctx, "000585f36eed9e8fb6b655b4"); return err },
			func(c *Client) error {
				var out json.RawMessage
				return c.Do(ctx, "GET", "/rooms/000585f36eed9e8fb6b655b4", nil, &out)
			}},
		{"CreateRoom",
			func(c *Client) error { _, err := c.CreateRoom(ctx, body); return err },
			func(c *Client) error { var out json.RawMessage; return c.Do(ctx, "POST", "/rooms", body, &out) }},
	}
	for _, call := range calls {
		for _, via := range []string{"do", "method"} {
			b.Run("op="+call.op+"/via="+via, func(b *testing.B) {
				c := benchNewSDK(b, s.URL+"/v1")
				defer c.loop.hc.CloseIdleConnections()
				f := call.check
				if via == "method" {
					f = call.method
				}
				benchRun(b, s, 1, func(context.Context) error { return f(c) }, true)
			})
		}
	}
}

// BenchmarkListRoomsSeq iterates over every room through ListRoomsSeq in
// pages of 100, for 1,000 and 10,000 rooms. B/op and allocs/op grow with
// the number of pages fetched (pages); what must not grow with the list is
// the memory held, reported as live-heap-B: the most live heap seen at any
// page boundary of one iteration (a GC runs at each boundary, before the
// timed loop), above what was live before it. With one page held at a time
// it is the same for 10,000 rooms as for 1,000. Run it with a small
// -benchtime (make bench uses 5x): an op lists every room.
func BenchmarkListRoomsSeq(b *testing.B) {
	s := benchServerGet()
	for _, n := range []int{1000, benchRoomsTotal} {
		b.Run(fmt.Sprintf("rooms=%d", n), func(b *testing.B) {
			c := benchNewSDK(b, s.URL+"/v1")
			defer c.loop.hc.CloseIdleConnections()
			// The server lists as many rooms as X-Bench-Total says.
			total := WithHeader("X-Bench-Total", strconv.Itoa(n))
			params := &ListRoomsParams{Limit: Ptr(100)}
			iterate := func(atPage func()) {
				got := 0
				for _, err := range c.ListRoomsSeq(context.Background(), params, total) {
					if err != nil {
						b.Fatal(err)
					}
					if got++; got%100 == 0 && atPage != nil {
						atPage()
					}
				}
				if got != n {
					b.Fatalf("%d rooms, want %d", got, n)
				}
			}
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base, peak := ms.HeapAlloc, uint64(0)
			iterate(func() {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > base {
					peak = max(peak, ms.HeapAlloc-base)
				}
			})
			b.ReportAllocs()
			for b.Loop() {
				iterate(nil)
			}
			b.ReportMetric(float64(peak), "live-heap-B")
			b.ReportMetric(float64(n/100), "pages")
		})
	}
}

// BenchmarkCallWithoutDrift is a call whose answer fits the model, answered
// from memory by the transport: no network, so steady on a shared machine,
// and the decoding step's share shows. GetRoom decodes one room, ListRooms a
// page of 100. It is what the check of required members (required.go) costs
// a call: compare it with the same benchmark built before the check.
func BenchmarkCallWithoutDrift(b *testing.B) {
	ctx := context.Background()
	for _, op := range []struct {
		name string
		body []byte
		call func(c *Client) error
	}{
		{"GetRoom", benchRoomJSON, func(c *Client) error { _, err := c.GetRoom(ctx, "000585f36eed9e8fb6b655b4"); return err }},
		{"ListRooms", benchRoomsPage(), func(c *Client) error { _, _, err := c.ListRooms(ctx, nil); return err }},
	} {
		b.Run("op="+op.name, func(b *testing.B) {
			c, err := NewClient(WithAPIKey("bench-key-0123456789"), WithBaseURL("https://api.example/v1"),
				WithHTTPClient(&http.Client{Transport: benchMemoryRT(op.body)}))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := op.call(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchRoomsPage is a ListRooms answer: a page of 100 rooms, every one
// with its required members, at offset 0.
func benchRoomsPage() []byte {
	var page bytes.Buffer
	page.WriteString(`{"rooms":[`)
	for i := range 100 {
		if i > 0 {
			page.WriteByte(',')
		}
		fmt.Fprintf(&page, `{"id":"%024x","name":"room %d","type":"open","record":true,"created_at":"2023-01-01T01:00:00.000Z"}`, i, i)
	}
	page.WriteString(`],"paging":{"limit":100,"offset":0,"total":100}}`)
	return page.Bytes()
}

// benchMemoryRT answers every request 200 with its JSON body, from memory.
type benchMemoryRT []byte

func (rt benchMemoryRT) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(rt)), ContentLength: int64(len(rt)), Request: req}, nil
}
