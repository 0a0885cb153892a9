package pagecall

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// relKey is the API key every test client uses. Tests that guard secrets
// search for it in everything the client emits.
const relKey = "pk_test_S3CRET_do_not_leak_0123456789"

// relFastPolicy retries twice with waits of a microsecond, so that retry tests
// spend their time on requests, not on sleeping.
var relFastPolicy = RetryPolicy{MaxRetries: 2, InitialBackoff: time.Microsecond, MaxBackoff: time.Microsecond}

// relClient returns a client for base with the test key and relFastPolicy,
// whose idle connections are closed when the test ends (so that goroutine
// leak checks see only what the test itself left behind).
func relClient(t testing.TB, base string, opts ...Option) *Client {
	t.Helper()
	all := append([]Option{WithAPIKey(relKey), WithBaseURL(base), WithRetryPolicy(relFastPolicy)}, opts...)
	c, err := NewClient(all...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(c.loop.hc.CloseIdleConnections)
	return c
}

// relWriteUser answers 200 with the spec's DeleteUser body for id.
func relWriteUser(w http.ResponseWriter, id string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"user":{"user_id":%q,"name":"scotty"}}`, id)
}

// relServer starts an httptest server whose handler gets the 1-based
// number of the request. It returns the base URL (ending /v1) and the
// number of requests so far.
func relServer(t testing.TB, h func(n int64, w http.ResponseWriter, r *http.Request)) (string, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(hits.Add(1), w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/v1", &hits
}

// relFailThenOK answers status (with extra headers) to the first `fails`
// requests and the user afterwards.
func relFailThenOK(fails int64, status int, header map[string]string, body string) func(int64, http.ResponseWriter, *http.Request) {
	return func(n int64, w http.ResponseWriter, r *http.Request) {
		if n > fails {
			relWriteUser(w, "u1")
			return
		}
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// relRawServer accepts TCP connections on loopback and hands each, with its
// 1-based number, to handle, for faults net/http's server cannot produce
// (resets, short bodies). It returns the base URL and the connection count.
func relRawServer(t testing.TB, handle func(n int64, c *net.TCPConn)) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		conns atomic.Int64
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // bounded whatever the client does
				handle(n, c.(*net.TCPConn))
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return "http://" + ln.Addr().String() + "/v1", &conns
}

// relReadRequest reads one request's head from c (DELETE has no body).
func relReadRequest(c net.Conn) bool {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return false
	}
	_ = req.Body.Close()
	return true
}

// reset closes c with an RST instead of a FIN.
func relReset(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

// relRawUser writes a complete 200 answer with the user and closes.
func relRawUser(c net.Conn) {
	body := `{"user":{"user_id":"u1"}}`
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

// relNoDNS is a resolver that never sends a query: every lookup fails.
var relNoDNS = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("test resolver: DNS is disabled in tests")
}}

// relLoopbackTransport dials only loopback: "localhost" is mapped to
// 127.0.0.1 without a lookup, and every other name fails through relNoDNS.
func relLoopbackTransport() *http.Transport {
	d := &net.Dialer{Timeout: 2 * time.Second, Resolver: relNoDNS}
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if host == "localhost" {
			addr = net.JoinHostPort("127.0.0.1", port)
		} else if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("test transport: %s is not loopback", host)
		}
		return d.DialContext(ctx, network, addr)
	}}
}

// relStreamBody answers 200 with a JSON-looking body of n bytes, written from
// one reused buffer: the server allocates nothing per byte, so any large
// allocation in the test comes from the client.
func relStreamBody(n int64) func(int64, http.ResponseWriter, *http.Request) {
	return func(_ int64, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(`{"user":{"user_id":"` + strings.Repeat("x", 32<<10))
		for sent := int64(0); sent < n; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil || r.Context().Err() != nil {
				return // the client stopped reading
			}
		}
	}
}

// relWaitOrDone blocks for d or until the request's context ends.
func relWaitOrDone(r *http.Request, d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

// faultCase is one row of TestFaults: a fault, and what the caller sees.
type faultCase struct {
	name string
	// server starts the fault and returns the base URL and a counter of
	// requests (or connections) it saw, nil if it cannot count.
	server func(t *testing.T) (string, *atomic.Int64)
	opts   []Option

	wantOK       bool                          // DeleteUser succeeds
	wantAttempts int64                         // requests sent: server count, or the error's Attempts
	check        func(t *testing.T, err error) // the error's type and content
	minElapsed   time.Duration                 // a wait that had to be honoured
	maxElapsed   time.Duration                 // hang prevention: the call returns within this
	maxAlloc     uint64                        // if set, bytes the call may allocate in all
}

// relWantAPIError checks for a *APIError with this status whose message
// contains msg.
func relWantAPIError(status int, msg string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("err = %T %v, want *APIError", err, err)
		}
		if apiErr.StatusCode != status || !strings.Contains(apiErr.Message, msg) {
			t.Errorf("APIError status %d message %q, want %d containing %q", apiErr.StatusCode, apiErr.Message, status, msg)
		}
	}
}

// relWantRequestError checks for a *RequestError whose cause matches is, and
// whose message contains msg.
func relWantRequestError(is func(error) bool, msg string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var reqErr *RequestError
		if !errors.As(err, &reqErr) {
			t.Fatalf("err = %T %v, want *RequestError", err, err)
		}
		if !is(err) {
			t.Errorf("err = %v (%#v): wrong cause", err, reqErr.Err)
		}
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("err = %q, want it to mention %q", err, msg)
		}
	}
}

func relErrIs(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func relErrAs[T error]() func(error) bool {
	return func(err error) bool { var v T; return errors.As(err, &v) }
}

// TestFaults is the fault-injection suite: one row per fault, each saying
// whether the call succeeds after how many attempts or fails with which
// typed error, and within what time. Afterwards no goroutine is left.
func TestFaults(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	const gib = 1 << 30
	nginx502 := "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"

	cases := []faultCase{
		{
			name:   "429 Retry-After seconds is waited out",
			server: relSrv(relFailThenOK(1, 429, map[string]string{"Retry-After": "1"}, "")),
			wantOK: true, wantAttempts: 2, minElapsed: 900 * time.Millisecond, maxElapsed: 5 * time.Second,
		},
		{
			name: "429 Retry-After HTTP-date is waited out",
			server: func(t *testing.T) (string, *atomic.Int64) {
				return relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
					// Formatting drops the fraction: the wait is 1 to 2 s.
					at := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
					relFailThenOK(1, 429, map[string]string{"Retry-After": at}, "")(n, w, r)
				})
			},
			wantOK: true, wantAttempts: 2, minElapsed: 900 * time.Millisecond, maxElapsed: 5 * time.Second,
		},
		{
			name:   "429 Retry-After seconds beyond MaxRetryAfter: no retry",
			server: relSrv(relFailThenOK(9, 429, map[string]string{"Retry-After": "3600"}, `{"message":"slow down"}`)),
			check: func(t *testing.T, err error) {
				relWantAPIError(429, "slow down")(t, err)
				if e := (*APIError)(nil); errors.As(err, &e) && e.RetryAfter != time.Hour {
					t.Errorf("RetryAfter = %v, want 1h", e.RetryAfter)
				}
			},
			wantAttempts: 1, maxElapsed: time.Second,
		},
		{
			name: "429 Retry-After HTTP-date beyond MaxRetryAfter: no retry",
			server: func(t *testing.T) (string, *atomic.Int64) {
				at := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
				return relServer(t, relFailThenOK(9, 429, map[string]string{"Retry-After": at}, ""))
			},
			check: func(t *testing.T, err error) {
				relWantAPIError(429, "")(t, err)
				if e := (*APIError)(nil); errors.As(err, &e) && (e.RetryAfter < 59*time.Minute || e.RetryAfter > time.Hour) {
					t.Errorf("RetryAfter = %v, want about 1h", e.RetryAfter)
				}
			},
			wantAttempts: 1, maxElapsed: time.Second,
		},
		{
			name:   "503 without Retry-After: retried with backoff",
			server: relSrv(relFailThenOK(1, 503, nil, "")),
			wantOK: true, wantAttempts: 2, maxElapsed: time.Second,
		},
		{
			name:   "500 twice: success on the third attempt",
			server: relSrv(relFailThenOK(2, 500, nil, `{"message":"oops"}`)),
			wantOK: true, wantAttempts: 3, maxElapsed: time.Second,
		},
		{
			name:   "502 twice: success on the third attempt",
			server: relSrv(relFailThenOK(2, 502, nil, "")),
			wantOK: true, wantAttempts: 3, maxElapsed: time.Second,
		},
		{
			name:   "504 twice: success on the third attempt",
			server: relSrv(relFailThenOK(2, 504, nil, "")),
			wantOK: true, wantAttempts: 3, maxElapsed: time.Second,
		},
		{
			name:   "503 for good: APIError after MaxRetries",
			server: relSrv(relFailThenOK(1<<40, 503, map[string]string{"X-Request-Id": "req-9"}, `{"message":"maintenance"}`)),
			check: func(t *testing.T, err error) {
				relWantAPIError(503, "maintenance")(t, err)
				if e := (*APIError)(nil); errors.As(err, &e) && (e.Attempts != 3 || e.RequestID != "req-9") {
					t.Errorf("Attempts %d RequestID %q, want 3 and req-9", e.Attempts, e.RequestID)
				}
			},
			wantAttempts: 3, maxElapsed: time.Second,
		},
		{
			name:   "400: no retry",
			server: relSrv(relFailThenOK(9, 400, nil, `{"error":"bad user_id"}`)),
			check:  relWantAPIError(400, "bad user_id"), wantAttempts: 1, maxElapsed: time.Second,
		},
		{
			name:   "501: no retry",
			server: relSrv(relFailThenOK(9, 501, nil, "")),
			check:  relWantAPIError(501, ""), wantAttempts: 1, maxElapsed: time.Second,
		},
		{
			name:   "HTML 502 page from a proxy: message from the page",
			server: relSrv(relFailThenOK(1<<40, 502, map[string]string{"Content-Type": "text/html"}, nginx502)),
			check:  relWantAPIError(502, "502 Bad Gateway 502 Bad Gateway nginx/1.25.3"), wantAttempts: 3, maxElapsed: time.Second,
		},
		{
			name: "connection refused: retried, then a dial error",
			server: func(t *testing.T) (string, *atomic.Int64) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := ln.Addr().String()
				ln.Close() // nothing listens there now
				return "http://" + addr + "/v1", nil
			},
			check:        relWantRequestError(relErrIs(syscall.ECONNREFUSED), "connection refused"),
			wantAttempts: 3, maxElapsed: time.Second,
		},
		{
			name: "reset before the response: retried",
			server: func(t *testing.T) (string, *atomic.Int64) {
				return relRawServer(t, func(n int64, c *net.TCPConn) {
					if !relReadRequest(c) {
						return
					}
					if n == 1 {
						relReset(c)
						return
					}
					relRawUser(c)
				})
			},
			wantOK: true, wantAttempts: 2, maxElapsed: time.Second,
		},
		{
			name: "reset mid-body: retried",
			server: func(t *testing.T) (string, *atomic.Int64) {
				return relRawServer(t, func(n int64, c *net.TCPConn) {
					if !relReadRequest(c) {
						return
					}
					if n == 1 {
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"user\":{\"user_")
						time.Sleep(10 * time.Millisecond) // let the head arrive before the RST
						relReset(c)
						return
					}
					relRawUser(c)
				})
			},
			wantOK: true, wantAttempts: 2, maxElapsed: time.Second,
		},
		{
			name: "body shorter than Content-Length: retried",
			server: func(t *testing.T) (string, *atomic.Int64) {
				return relRawServer(t, func(n int64, c *net.TCPConn) {
					if !relReadRequest(c) {
						return
					}
					if n == 1 {
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user\":{")
						return // FIN after 9 of 100 bytes
					}
					relRawUser(c)
				})
			},
			wantOK: true, wantAttempts: 2, maxElapsed: time.Second,
		},
		{
			name: "truncated JSON in a complete 200: malformed, no retry",
			server: relSrv(func(_ int64, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"user":{"user_id":"u1","na`)
			}),
			check:        relWantRequestError(relErrIs(ErrMalformedResponse), "malformed"),
			wantAttempts: 1, maxElapsed: time.Second,
		},
		{
			// Allocation is bounded by the limit, not the body: about 1 MiB
			// here and 10 MiB with the default limit (measured), two orders
			// of magnitude below the 2 GiB sent.
			name:         "2 GiB chunked body, 1 MiB limit: ErrResponseTooLarge, < 32 MiB allocated, no retry",
			server:       relSrv(relStreamBody(2 * gib)),
			opts:         []Option{WithMaxResponseBytes(1 << 20)},
			check:        relWantRequestError(relErrIs(ErrResponseTooLarge), "more than 1048576 bytes"),
			wantAttempts: 1, maxElapsed: 20 * time.Second, maxAlloc: 32 << 20,
		},
		{
			name:         "2 GiB chunked body, default 10 MiB limit: ErrResponseTooLarge, < 32 MiB allocated, no retry",
			server:       relSrv(relStreamBody(2 * gib)),
			check:        relWantRequestError(relErrIs(ErrResponseTooLarge), "more than 10485760 bytes"),
			wantAttempts: 1, maxElapsed: 20 * time.Second, maxAlloc: 32 << 20,
		},
		{
			name: "2 GiB declared Content-Length: refused before reading",
			server: relSrv(func(n int64, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(int64(2*gib)))
				relStreamBody(2*gib)(n, w, r)
			}),
			check:        relWantRequestError(relErrIs(ErrResponseTooLarge), "Content-Length 2147483648"),
			wantAttempts: 1, maxElapsed: 5 * time.Second, maxAlloc: 32 << 20,
		},
		{
			name: "slow headers: stopped at the deadline",
			server: relSrv(func(_ int64, w http.ResponseWriter, r *http.Request) {
				relWaitOrDone(r, 10*time.Second)
				relWriteUser(w, "u1")
			}),
			opts:         []Option{WithTimeout(200 * time.Millisecond)},
			check:        relWantRequestError(relErrIs(context.DeadlineExceeded), "deadline exceeded"),
			wantAttempts: 1, minElapsed: 200 * time.Millisecond, maxElapsed: 200*time.Millisecond + 2*time.Second,
		},
		{
			name:         "slow body: stopped at the deadline",
			server:       relSrv(relTrickle),
			opts:         []Option{WithTimeout(200 * time.Millisecond)},
			check:        relWantRequestError(relErrIs(context.DeadlineExceeded), "deadline exceeded"),
			wantAttempts: 1, minElapsed: 200 * time.Millisecond, maxElapsed: 200*time.Millisecond + 2*time.Second,
		},
		{
			name: "redirect loop: stopped after 10 requests, no retry",
			server: relSrv(func(_ int64, w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
			}),
			check:        relWantRequestError(relErrIs(ErrTooManyRedirects), "10 redirects"),
			wantAttempts: 10, maxElapsed: time.Second, // 10 requests, all in one attempt
		},
		{
			name: "TLS certificate not trusted: no retry",
			server: func(t *testing.T) (string, *atomic.Int64) {
				var conns atomic.Int64
				ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { relWriteUser(w, "u1") }))
				ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake error is expected
				ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
					if s == http.StateNew {
						conns.Add(1)
					}
				}
				ts.StartTLS()
				t.Cleanup(ts.Close)
				return ts.URL + "/v1", &conns
			},
			check:        relWantRequestError(relErrAs[*tls.CertificateVerificationError](), "certificate signed by unknown authority"),
			wantAttempts: 1, maxElapsed: time.Second,
		},
		{
			name: "DNS failure: no retry",
			server: func(t *testing.T) (string, *atomic.Int64) {
				return "https://api.pagecall.invalid/v1", nil
			},
			opts: []Option{WithHTTPClient(&http.Client{Transport: &http.Transport{
				DialContext: (&net.Dialer{Resolver: relNoDNS}).DialContext,
			}})},
			check:        relWantRequestError(relErrAs[*net.DNSError](), "lookup api.pagecall.invalid"),
			wantAttempts: 1, maxElapsed: time.Second,
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, count := tc.server(t)
			c := relClient(t, base, tc.opts...)
			if hc := c.loop.hc; hc.Transport != nil {
				if tr, ok := hc.Transport.(*http.Transport); ok {
					t.Cleanup(tr.CloseIdleConnections)
				}
			}

			var before, after runtime.MemStats
			if tc.maxAlloc > 0 {
				runtime.GC()
				runtime.ReadMemStats(&before)
			}
			start := time.Now()
			user, err := c.DeleteUser(context.Background(), "u1")
			elapsed := time.Since(start)
			if tc.maxAlloc > 0 {
				runtime.ReadMemStats(&after)
				alloc := after.TotalAlloc - before.TotalAlloc
				t.Logf("allocated %d KiB during the call", alloc>>10)
				if alloc > tc.maxAlloc {
					t.Errorf("allocated %d bytes during the call, want at most %d", alloc, tc.maxAlloc)
				}
			}

			if tc.wantOK {
				if err != nil || user == nil || user.UserID != "u1" {
					t.Fatalf("DeleteUser = %+v, %v; want user u1", user, err)
				}
			} else {
				if err == nil {
					t.Fatalf("DeleteUser succeeded, want an error")
				}
				if strings.ContainsAny(err.Error(), "\r\n") {
					t.Errorf("error is not one line: %q", err)
				}
				tc.check(t, err)
				t.Logf("error: %v", err)
			}

			if count != nil {
				if got := count.Load(); got != tc.wantAttempts {
					t.Errorf("server saw %d requests/connections, want %d", got, tc.wantAttempts)
				}
			}
			if err != nil {
				if got := relAttempts(err); got != int(tc.wantAttempts) && !errors.Is(err, ErrTooManyRedirects) && !errors.Is(err, ErrMalformedResponse) {
					t.Errorf("error reports %d attempts, want %d", got, tc.wantAttempts)
				}
			}
			if elapsed < tc.minElapsed {
				t.Errorf("returned after %v, want at least %v (a wait was not honoured)", elapsed, tc.minElapsed)
			}
			if tc.maxElapsed > 0 && elapsed > tc.maxElapsed {
				t.Errorf("returned after %v, want within %v", elapsed, tc.maxElapsed)
			}
		})
	}
}

// srv adapts a counting handler to a faultCase server.
func relSrv(h func(int64, http.ResponseWriter, *http.Request)) func(*testing.T) (string, *atomic.Int64) {
	return func(t *testing.T) (string, *atomic.Int64) { return relServer(t, h) }
}

// relTrickle sends the head at once, then one byte every 20 ms until the
// client goes away (at most 10 s).
func relTrickle(_ int64, w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := io.WriteString(w, " "); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
		relWaitOrDone(r, 20*time.Millisecond)
		if r.Context().Err() != nil {
			return
		}
	}
}

// relAttempts returns the Attempts of a *APIError or *RequestError.
func relAttempts(err error) int {
	var (
		apiErr *APIError
		reqErr *RequestError
	)
	switch {
	case errors.As(err, &apiErr):
		return apiErr.Attempts
	case errors.As(err, &reqErr):
		return reqErr.Attempts
	}
	return 0
}

// TestFailedAttemptReusesConnection: a failed attempt's body (several KiB,
// as proxies send) is drained, so the retry goes over the same connection.
func TestFailedAttemptReusesConnection(t *testing.T) {
	var conns atomic.Int64
	var hits atomic.Int64
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "<html><body><h1>503 Service Unavailable</h1>"+strings.Repeat("<!-- padding -->", 512)+"</body></html>")
			return
		}
		relWriteUser(w, "u1")
	}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)

	c := relClient(t, ts.URL+"/v1")
	if _, err := c.DeleteUser(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 2 {
		t.Fatalf("server saw %d requests, want 2 (a 503 then a 200)", hits.Load())
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for a 503 (8 KiB body) and its retry, want 1: the failed body was not drained", n)
	}
}
