package pagecall

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestBackoffRange(t *testing.T) {
	def := DefaultRetryPolicy()
	tests := []struct {
		name   string
		policy RetryPolicy
		retry  int
		lo, hi time.Duration
	}{
		{"first retry from 500ms", def, 1, 250 * time.Millisecond, 500 * time.Millisecond},
		{"second doubles", def, 2, 500 * time.Millisecond, time.Second},
		{"fourth", def, 4, 2 * time.Second, 4 * time.Second},
		{"capped at 8s", def, 5, 4 * time.Second, 8 * time.Second},
		{"stays capped", def, 40, 4 * time.Second, 8 * time.Second},
		{"no overflow", def, 1 << 20, 4 * time.Second, 8 * time.Second},
		{"zero durations mean defaults", RetryPolicy{MaxRetries: 1}, 1, 250 * time.Millisecond, 500 * time.Millisecond},
		{"retry 0 treated as 1", def, 0, 250 * time.Millisecond, 500 * time.Millisecond},
		{"custom", RetryPolicy{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 15 * time.Millisecond}, 2, 7500 * time.Microsecond, 15 * time.Millisecond},
		{"max below initial", RetryPolicy{InitialBackoff: time.Second, MaxBackoff: time.Millisecond}, 3, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := tt.policy.BackoffRange(tt.retry)
			if lo != tt.lo || hi != tt.hi {
				t.Fatalf("BackoffRange(%d) = [%v, %v], want [%v, %v]", tt.retry, lo, hi, tt.lo, tt.hi)
			}
			seen := map[time.Duration]bool{}
			for range 200 {
				d := tt.policy.Backoff(tt.retry)
				if d < lo || d > hi {
					t.Fatalf("Backoff(%d) = %v, outside [%v, %v]", tt.retry, d, lo, hi)
				}
				seen[d] = true
			}
			if len(seen) < 2 {
				t.Errorf("Backoff(%d) returned one value in 200 draws: no jitter", tt.retry)
			}
		})
	}
}

func TestDefaultRetryPolicy(t *testing.T) {
	want := RetryPolicy{MaxRetries: 2, InitialBackoff: 500 * time.Millisecond, MaxBackoff: 8 * time.Second, MaxRetryAfter: 30 * time.Second, BudgetCapacity: 400}
	if got := DefaultRetryPolicy(); got != want {
		t.Errorf("DefaultRetryPolicy() = %+v, want %+v", got, want)
	}
	if got := (RetryPolicy{MaxRetries: -3}).withDefaults(); got.MaxRetries != 0 {
		t.Errorf("negative MaxRetries became %d, want 0", got.MaxRetries)
	}
}

func TestRetryableStatus(t *testing.T) {
	tests := []struct {
		status int
		get    bool // GET, PUT, DELETE…
		post   bool // POST, PATCH
	}{
		{200, false, false},
		{400, false, false},
		{401, false, false},
		{404, false, false},
		{408, true, false},
		{409, false, false},
		{429, true, true},
		{500, true, false},
		{501, false, false},
		{502, true, false},
		{503, true, false},
		{504, true, false},
		{599, true, false},
	}
	for _, tt := range tests {
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete} {
			if got := retryableStatus(isIdempotent(m), tt.status); got != tt.get {
				t.Errorf("RetryableStatus(%s, %d) = %v, want %v", m, tt.status, got, tt.get)
			}
		}
		for _, m := range []string{http.MethodPost, http.MethodPatch} {
			if got := retryableStatus(isIdempotent(m), tt.status); got != tt.post {
				t.Errorf("RetryableStatus(%s, %d) = %v, want %v", m, tt.status, got, tt.post)
			}
		}
	}
}

func TestRetryableError(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	tests := []struct {
		name       string
		err        error
		get, post  bool
		wrapInURLs bool
	}{
		{"nil", nil, false, false, false},
		{"dial refused", dial, true, true, true},
		{"reset after write", reset, true, false, true},
		{"EOF before response", io.EOF, true, false, true},
		{"unexpected EOF mid-body", io.ErrUnexpectedEOF, true, false, false},
		{"canceled", context.Canceled, false, false, true},
		{"deadline", context.DeadlineExceeded, false, false, true},
		{"dial timeout", &net.OpError{Op: "dial", Net: "tcp", Err: dialTimeoutErr{}}, true, true, true},
		{"dial cancelled", &net.OpError{Op: "dial", Net: "tcp", Err: context.Canceled}, false, false, true},
		{"no such host", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}, false, false, true},
		{"temporary DNS", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}}, true, true, true},
		{"untrusted certificate", x509.UnknownAuthorityError{}, false, false, true},
		{"hostname mismatch", x509.HostnameError{Host: "x"}, false, false, true},
		{"redirect loop", ErrTooManyRedirects, false, false, true},
		{"body too large", fmt.Errorf("%w: big", ErrResponseTooLarge), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := []error{tt.err}
			if tt.wrapInURLs {
				// As net/http returns it.
				errs = append(errs, &url.Error{Op: "Delete", URL: "https://x/v1/users/a", Err: tt.err})
			}
			for _, err := range errs {
				if got := retryableError(true, err); got != tt.get {
					t.Errorf("RetryableError(DELETE, %v) = %v, want %v", err, got, tt.get)
				}
				if got := retryableError(false, err); got != tt.post {
					t.Errorf("RetryableError(POST, %v) = %v, want %v", err, got, tt.post)
				}
			}
		})
	}
}

// dialTimeoutErr is what net returns when a Dialer's timeout passes: a timeout
// error that also matches context.DeadlineExceeded.
type dialTimeoutErr struct{}

func (dialTimeoutErr) Error() string   { return "i/o timeout" }
func (dialTimeoutErr) Timeout() bool   { return true }
func (dialTimeoutErr) Is(e error) bool { return e == context.DeadlineExceeded }

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", 0, false},
		{"9999999999", 24 * time.Hour, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Sat, 28 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Saturday, 28-Nov-26 12:00:30 GMT", 30 * time.Second, true}, // RFC 850
		{"Sat Nov 28 12:00:30 2026", 30 * time.Second, true},         // asctime
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.value, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestIsIdempotent(t *testing.T) {
	for m, want := range map[string]bool{
		"GET": true, "HEAD": true, "OPTIONS": true, "PUT": true, "DELETE": true, "TRACE": true,
		"POST": false, "PATCH": false, "CONNECT": false, "": false,
	} {
		if got := isIdempotent(m); got != want {
			t.Errorf("IsIdempotent(%q) = %v, want %v", m, got, want)
		}
	}
}

// TestRetryBudgetArithmetic runs sequences of calls through the budget,
// one letter an attempt: f a failure of the service (5 tokens), T a
// timed-out attempt (10), a an answer, and "|" the end of a call.
func TestRetryBudgetArithmetic(t *testing.T) {
	tests := []struct {
		name       string
		start      int64
		seq        string
		wantTokens float64
		wantGrants string // one letter per failure: y granted, n refused
	}{
		{"starts full", budgetCapacity, "", 400, ""},
		{"a failure takes 5", budgetCapacity, "f|", 395, "y"},
		{"a timeout takes 10", budgetCapacity, "T|", 390, "y"},
		{"a success after failures gives them back", budgetCapacity, "ffa|", 400, "yy"},
		{"a success at once adds 1, capped", budgetCapacity, "a|", 400, ""},
		{"a success at once adds 1", 100, "a|a|", 102, ""},
		{"a refund is capped", 398, "fa|", 398, "y"},
		{"failures taken by a call that fails stay taken", 100, "fff|a|", 86, "yyy"},
		{"refused below the cost", 7, "ff|", 2, "yn"},
		{"a refused failure takes nothing", 4, "f|", 4, "n"},
		{"a timeout needs 10", 9, "Tf|", 4, "ny"},
		{"64 simultaneous failures fit", budgetCapacity, strings.Repeat("f|", 64), 80, strings.Repeat("y", 64)},
		{"80 retries drain a full budget", budgetCapacity, strings.Repeat("f|", 81), 0, strings.Repeat("y", 80) + "n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newRetryBudget(DefaultRetryPolicy())
			b.left.Store(tt.start)
			var (
				h      budgetHold
				grants strings.Builder
			)
			for _, c := range tt.seq {
				switch c {
				case 'f', 'T':
					cost := int64(budgetRetryCost)
					if c == 'T' {
						cost = budgetTimeoutCost
					}
					if b.onFailure(&h, cost) {
						grants.WriteByte('y')
					} else {
						grants.WriteByte('n')
					}
				case 'a':
					b.onAnswer(&h)
				case '|':
					h = budgetHold{}
				}
			}
			if got := b.tokens(); got != tt.wantTokens {
				t.Errorf("tokens = %v, want %v", got, tt.wantTokens)
			}
			if got := grants.String(); got != tt.wantGrants {
				t.Errorf("grants = %q, want %q", got, tt.wantGrants)
			}
		})
	}
}

func TestRetryCost(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want int64
	}{
		{"an answer", nil, budgetRetryCost},
		{"reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, budgetRetryCost},
		{"dial timeout", &net.OpError{Op: "dial", Err: dialTimeoutErr{}}, budgetTimeoutCost},
		{"wrapped timeout", &url.Error{Op: "Delete", URL: "u", Err: dialTimeoutErr{}}, budgetTimeoutCost},
	} {
		if got := retryCost(tt.err); got != tt.want {
			t.Errorf("%s: retryCost = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestAPIErrorIsFoundByErrorsAs: an *APIError is found through errors.As.
func TestAPIErrorIsFoundByErrorsAs(t *testing.T) {
	var err error = fmt.Errorf("wrapped: %w", &APIError{StatusCode: 503})
	if !errors.As(err, new(*APIError)) {
		t.Error("errors.As fails on *APIError")
	}
}

// TestRetryBudgetCapacityAndDisable runs 100 calls one after another into
// an API that answers every attempt 503 (DeleteUser, MaxRetries 2, so 3
// attempts a call when nothing refuses a retry). The budget's capacity is
// honoured: a client starts with that many tokens and stops retrying when
// its failures have taken them; disabled, the budget refuses no retry, so
// every call makes all its attempts, and it takes nothing.
func TestRetryBudgetCapacityAndDisable(t *testing.T) {
	const calls = 100
	tests := []struct {
		name         string
		capacity     int
		disable      bool
		wantStart    float64
		wantAttempts int64
		wantLeft     float64
	}{
		// 80 failures' worth: 26 calls retried in full (78 failures), the
		// 27th twice (the 80th failure empties it), 73 with one attempt.
		{"default capacity", 0, false, 400, 27*3 + 73, 0},
		// 4 failures' worth: the first call retried twice, the second once.
		{"capacity 20", 20, false, 20, 3 + 2 + 98, 0},
		// 200 failures' worth: 66 calls in full, the 67th too (its third
		// failure finds nothing left but is not retried anyway), 33 single.
		{"capacity 1000", 1000, false, 1000, 67*3 + 33, 0},
		{"disabled", 0, true, 400, calls * 3, 400},
		{"disabled whatever the capacity", 20, true, 20, calls * 3, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, hits := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			p := relFastPolicy
			p.BudgetCapacity, p.DisableBudget = tt.capacity, tt.disable
			c := relClient(t, base, WithRetryPolicy(p))
			if got := c.RetryBudget(); got != tt.wantStart {
				t.Errorf("a new client's budget is %v tokens, want %v", got, tt.wantStart)
			}
			for range calls {
				var apiErr *APIError
				if _, err := c.DeleteUser(context.Background(), "u1"); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
					t.Fatalf("DeleteUser: %v, want the 503", err)
				}
			}
			if got := hits.Load(); got != tt.wantAttempts {
				t.Errorf("%d calls made %d attempts, want %d", calls, got, tt.wantAttempts)
			}
			if got := c.RetryBudget(); got != tt.wantLeft {
				t.Errorf("budget left %v tokens, want %v", got, tt.wantLeft)
			}
		})
	}
}

// TestRetryPolicyBudgetDefaults: the default policy has the default
// capacity, a zero capacity means it, and the budget is on unless asked.
func TestRetryPolicyBudgetDefaults(t *testing.T) {
	if got := DefaultRetryPolicy(); got.BudgetCapacity != DefaultBudgetCapacity || got.DisableBudget {
		t.Errorf("DefaultRetryPolicy() = %+v, want BudgetCapacity %d and the budget on", got, DefaultBudgetCapacity)
	}
	for _, capacity := range []int{0, -5} {
		if got := (RetryPolicy{BudgetCapacity: capacity}).withDefaults().BudgetCapacity; got != DefaultBudgetCapacity {
			t.Errorf("BudgetCapacity %d with defaults = %d, want %d", capacity, got, DefaultBudgetCapacity)
		}
	}
	if got := (RetryPolicy{BudgetCapacity: 7}).withDefaults().BudgetCapacity; got != 7 {
		t.Errorf("BudgetCapacity 7 with defaults = %d, want 7", got)
	}
}

// TestBackoffRangeZeroMaxIsDefault: a MaxBackoff of 0 means
// DefaultMaxBackoff, not "as long as InitialBackoff": late retries wait up
// to DefaultMaxBackoff. (Found by gremlins: a zero MaxBackoff kept as
// zero, then raised to InitialBackoff, passed every test.)
func TestBackoffRangeZeroMaxIsDefault(t *testing.T) {
	for _, p := range []RetryPolicy{
		{},
		{InitialBackoff: 10 * time.Millisecond},
		{InitialBackoff: 10 * time.Millisecond, MaxBackoff: -time.Second},
	} {
		lo, hi := p.BackoffRange(20)
		if hi != DefaultMaxBackoff || lo != DefaultMaxBackoff/2 {
			t.Errorf("%+v: BackoffRange(20) = [%v, %v], want [%v, %v]", p, lo, hi, DefaultMaxBackoff/2, DefaultMaxBackoff)
		}
	}
}

// TestBackoffRangeOverflow: a doubling that overflows to zero is capped by
// MaxBackoff like any long wait, never taken as a wait of zero. (Found by
// gremlins: accepting a doubled backoff of 0 passed every test.)
func TestBackoffRangeOverflow(t *testing.T) {
	p := RetryPolicy{InitialBackoff: 1 << 34, MaxBackoff: time.Hour} // 2^34 ns << 30 wraps to 0
	if lo, hi := p.BackoffRange(31); hi != time.Hour || lo != time.Hour/2 {
		t.Errorf("BackoffRange(31) = [%v, %v], want [%v, %v]", lo, hi, time.Hour/2, time.Hour)
	}
}

// TestBackoffReachesBothEnds: Backoff draws from the whole closed range
// [max/2, max] of BackoffRange, both ends included, and a range of one
// nanosecond does not panic. (Found by gremlins: a draw that never reached
// the top passed every test.) With a range of three values, 300 draws
// miss an end with probability (2/3)^300, below 1e-52.
func TestBackoffReachesBothEnds(t *testing.T) {
	p := RetryPolicy{InitialBackoff: 3, MaxBackoff: 3} // range [1ns, 3ns]
	seen := map[time.Duration]bool{}
	for range 300 {
		d := p.Backoff(1)
		if d < 1 || d > 3 {
			t.Fatalf("Backoff(1) = %v, outside [1ns, 3ns]", d)
		}
		seen[d] = true
	}
	if !seen[1] || !seen[3] {
		t.Errorf("300 draws gave %v, want both 1ns and 3ns among them", seen)
	}
	tiny := RetryPolicy{InitialBackoff: 1, MaxBackoff: 1} // range [0, 1ns]
	for range 10 {
		if d := tiny.Backoff(1); d < 0 || d > 1 {
			t.Fatalf("Backoff(1) = %v, outside [0, 1ns]", d)
		}
	}
}

func TestRetryByStatus(t *testing.T) {
	tests := []struct {
		status       int
		wantAttempts int64
	}{
		{http.StatusRequestTimeout, 3},
		{http.StatusTooManyRequests, 3},
		{http.StatusInternalServerError, 3},
		{http.StatusBadGateway, 3},
		{http.StatusServiceUnavailable, 3},
		{http.StatusGatewayTimeout, 3},
		{599, 3},
		{http.StatusNotImplemented, 1},
		{http.StatusBadRequest, 1},
		{http.StatusUnauthorized, 1},
		{http.StatusForbidden, 1},
		{http.StatusNotFound, 1},
		{http.StatusConflict, 1},
		{http.StatusUnprocessableEntity, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			c, mux, ts := setup(t)
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
			})
			_, err := c.DeleteUser(context.Background(), testUserID)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if apiErr.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", apiErr.StatusCode, tt.status)
			}
			if got := ts.hits.Load(); got != tt.wantAttempts || int64(apiErr.Attempts) != tt.wantAttempts {
				t.Errorf("server saw %d attempts, error says %d; want %d", got, apiErr.Attempts, tt.wantAttempts)
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	c, mux, ts := setup(t)
	mux.HandleFunc("/v1/users/{id}", failThen(2, http.StatusBadGateway, "", okUser))
	u, err := c.DeleteUser(context.Background(), testUserID)
	if err != nil || u.UserID != testUserID {
		t.Fatalf("DeleteUser = %+v, %v; want the user", u, err)
	}
	if n := ts.hits.Load(); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
}

func TestWithMaxRetries(t *testing.T) {
	for _, n := range []int{0, 1, 4} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			// WithMaxRetries wins over WithRetryPolicy whatever the order.
			c, mux, ts := setup(t, WithMaxRetries(n), WithRetryPolicy(fastRetries()))
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			_, err := c.DeleteUser(context.Background(), testUserID)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("err = %v, want *APIError 503", err)
			}
			if got := ts.hits.Load(); got != int64(n+1) {
				t.Errorf("attempts = %d, want %d", got, n+1)
			}
		})
	}
}

func TestRetryConnectionFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault func(t *testing.T, w http.ResponseWriter)
	}{
		{"reset before response", func(t *testing.T, w http.ResponseWriter) {
			if conn := hijack(t, w); conn != nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
		}},
		{"EOF before response", func(t *testing.T, w http.ResponseWriter) {
			if conn := hijack(t, w); conn != nil {
				conn.Close()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" then success", func(t *testing.T) {
			c, mux, ts := setup(t)
			var n atomic.Int64
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					tt.fault(t, w)
					return
				}
				okUser(w, r)
			})
			if _, err := c.DeleteUser(context.Background(), testUserID); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			if got := ts.hits.Load(); got != 2 {
				t.Errorf("attempts = %d, want 2", got)
			}
		})
		t.Run(tt.name+" every time", func(t *testing.T) {
			c, mux, ts := setup(t)
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) { tt.fault(t, w) })
			_, err := c.DeleteUser(context.Background(), testUserID)
			var reqErr *RequestError
			if !errors.As(err, &reqErr) || reqErr.Attempts != 3 {
				t.Fatalf("err = %v, want *RequestError after 3 attempts", err)
			}
			if got := ts.hits.Load(); got != 3 {
				t.Errorf("server saw %d attempts, want 3", got)
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		c, err := NewClient(WithAPIKey(testKey), WithBaseURL("http://"+addr+"/v1"), WithRetryPolicy(fastRetries()))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteUser(context.Background(), testUserID)
		var reqErr *RequestError
		var opErr *net.OpError
		if !errors.As(err, &reqErr) || reqErr.Attempts != 3 || !errors.As(err, &opErr) || opErr.Op != "dial" {
			t.Fatalf("err = %v, want a dial *net.OpError in a *RequestError after 3 attempts", err)
		}
	})
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name   string
		status int
		value  func() string
	}{
		{"429 seconds", http.StatusTooManyRequests, func() string { return "1" }},
		{"503 HTTP-date", http.StatusServiceUnavailable, func() string {
			return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Backoff alone would wait a millisecond; only Retry-After can
			// make the client wait about a second.
			c, mux, _ := setup(t)
			var mu sync.Mutex
			var at []time.Time
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				at = append(at, time.Now())
				n := len(at)
				mu.Unlock()
				if n == 1 {
					w.Header().Set("Retry-After", tt.value())
					w.WriteHeader(tt.status)
					return
				}
				okUser(w, r)
			})
			if _, err := c.DeleteUser(context.Background(), testUserID); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			if len(at) != 2 {
				t.Fatalf("attempts = %d, want 2", len(at))
			}
			if gap := at[1].Sub(at[0]); gap < 900*time.Millisecond {
				t.Errorf("retry came %v after the first attempt; Retry-After asked for about 1s", gap)
			}
		})
	}
}

func TestRetryAfterPastCapOrDeadlineFailsAtOnce(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		deadline   time.Duration
		policy     RetryPolicy
	}{
		// Without the cap the client would sleep 5s and try again.
		{"past cap", "5", 30 * time.Second, RetryPolicy{MaxRetries: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxRetryAfter: time.Second}},
		{"past deadline", "10", 2 * time.Second, fastRetries()},
		// Plain backoff longer than the time left is not slept either.
		{"backoff past deadline", "", 2 * time.Second, RetryPolicy{MaxRetries: 2, InitialBackoff: time.Minute, MaxBackoff: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, ts := setup(t, WithRetryPolicy(tt.policy))
			mux.HandleFunc("/v1/users/{id}", func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			ctx, cancel := context.WithTimeout(context.Background(), tt.deadline)
			defer cancel()
			_, err := c.DeleteUser(ctx, testUserID)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the 503 *APIError at once, not a timeout", err)
			}
			if n := ts.hits.Load(); n != 1 || apiErr.Attempts != 1 {
				t.Errorf("attempts = %d (error says %d), want 1", n, apiErr.Attempts)
			}
			if tt.retryAfter == "5" && apiErr.RetryAfter != 5*time.Second {
				t.Errorf("RetryAfter = %v, want 5s", apiErr.RetryAfter)
			}
		})
	}
}

func TestMethodAwareRetries(t *testing.T) {
	tests := []struct {
		method       string
		status       int
		wantAttempts int
	}{
		{http.MethodPost, http.StatusBadGateway, 1},
		{http.MethodPost, http.StatusInternalServerError, 1},
		{http.MethodPost, http.StatusGatewayTimeout, 1},
		{http.MethodPost, http.StatusServiceUnavailable, 1},
		{http.MethodPatch, http.StatusServiceUnavailable, 1},
		{http.MethodPost, http.StatusTooManyRequests, 3},
		{http.MethodPut, http.StatusServiceUnavailable, 3},
		{http.MethodGet, http.StatusBadGateway, 3},
		{http.MethodDelete, http.StatusGatewayTimeout, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.method, " ", tt.status), func(t *testing.T) {
			c, mux, _ := setup(t)
			var bodies []string
			var mu sync.Mutex
			mux.HandleFunc("/v1/rooms/r1", func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				mu.Unlock()
				w.WriteHeader(tt.status)
			})
			// A plain body without GetBody: the loop must buffer it for replay.
			payload := `{"name":"standup","is_ephemeral":true}`
			req, err := http.NewRequestWithContext(context.Background(), tt.method, c.BaseURL()+"/rooms/r1", io.NopCloser(strings.NewReader(payload)))
			if err != nil {
				t.Fatal(err)
			}
			err = sendRaw(c, req)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
				t.Fatalf("err = %v, want *APIError %d", err, tt.status)
			}
			if len(bodies) != tt.wantAttempts {
				t.Fatalf("sent %d times, want %d", len(bodies), tt.wantAttempts)
			}
			for i, b := range bodies {
				if b != payload {
					t.Errorf("attempt %d body = %q, want %q", i+1, b, payload)
				}
			}
		})
	}
}

func TestPostRetriedOnlyWhenNeverSent(t *testing.T) {
	t.Run("dial failure", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c, err := NewClient(WithAPIKey(testKey), WithBaseURL("http://"+addr+"/v1"), WithRetryPolicy(fastRetries()))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, c.BaseURL()+"/rooms", strings.NewReader("{}"))
		err = sendRaw(c, req)
		var reqErr *RequestError
		if !errors.As(err, &reqErr) || reqErr.Attempts != 3 {
			t.Fatalf("err = %v, want 3 attempts (nothing reached the server)", err)
		}
	})
	t.Run("reset after the request was written", func(t *testing.T) {
		c, mux, ts := setup(t)
		mux.HandleFunc("/v1/rooms", func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			if conn := hijack(t, w); conn != nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
		})
		req, _ := http.NewRequest(http.MethodPost, c.BaseURL()+"/rooms", strings.NewReader("{}"))
		err := sendRaw(c, req)
		var reqErr *RequestError
		if !errors.As(err, &reqErr) {
			t.Fatalf("err = %v, want *RequestError", err)
		}
		if n := ts.hits.Load(); n != 1 {
			t.Errorf("POST sent %d times after an ambiguous reset, want 1", n)
		}
	})
}

// FuzzParseRetryAfter: ParseRetryAfter never panics nor returns a negative
// wait; it accepts exactly RFC 9110's delay-seconds (digits, within int64)
// and HTTP-dates and rejects everything else (signs, fractions, words); and
// n seconds round-trips as n·1s, capped at 24 h.
func FuzzParseRetryAfter(f *testing.F) {
	f.Add("120", uint64(120))
	f.Add("0", uint64(0))
	f.Add(" 5 ", uint64(5))
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT", uint64(86400))
	f.Add("Sunday, 06-Nov-94 08:49:37 GMT", uint64(86401))
	f.Add("Sun Nov  6 08:49:37 1994", uint64(1<<40))
	f.Add("-1", uint64(1))
	f.Add("+5", uint64(5))
	f.Add("1.5", uint64(2))
	f.Add("99999999999999999999", uint64(1<<63|5))
	f.Add("soon", uint64(3))
	f.Add("", uint64(0))

	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value string, secs uint64) {
		wait, ok := parseRetryAfter(value, now)
		if wait < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, negative", value, wait)
		}
		if !ok && wait != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, false: a wait without ok", value, wait)
		}
		v := strings.TrimSpace(value)
		_, dateErr := http.ParseTime(v)
		_, intErr := strconv.ParseInt(v, 10, 64)
		secsOK := relAllDigits(v) && intErr == nil // beyond int64 is junk
		valid := secsOK || dateErr == nil
		if ok != valid {
			t.Fatalf("parseRetryAfter(%q) ok = %v, want %v (delay-seconds: %v, HTTP-date: %v)", value, ok, valid, secsOK, dateErr == nil)
		}
		if wait > 24*time.Hour && relAllDigits(v) {
			t.Fatalf("parseRetryAfter(%q) = %v, want at most 24h", value, wait)
		}

		// Round trip: n seconds is n seconds, up to the 24 h cap, for any
		// n within int64.
		secs &^= 1 << 63
		w, ok := parseRetryAfter(strconv.FormatUint(secs, 10), now)
		want := 24 * time.Hour
		if secs < uint64(want/time.Second) {
			want = time.Duration(secs) * time.Second
		}
		if !ok || w != want {
			t.Fatalf("parseRetryAfter(%d) = %v, %v; want %v, true", secs, w, ok, want)
		}
	})
}
