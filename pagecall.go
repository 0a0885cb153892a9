// Package pagecall is a Go client for the Pagecall REST API.
//
// Every operation of Pagecall's OpenAPI document is a method generated on
// [Client]; each goes through one request loop that adds API-key
// injection, a retry policy with a client-wide retry budget, typed errors,
// timeouts, response size limits and input safety. [Client.Do] sends a
// request the document lacks through the same loop.
//
//	c, err := pagecall.NewClient() // reads PAGECALL_API_KEY
//	if err != nil { … }
//	room, err := c.CreateRoom(ctx, pagecall.CreateRoomRequest{
//		Name: "standup", Type: pagecall.RoomTypePrivate, Record: pagecall.Ptr(false),
//	})
//	var apiErr *pagecall.APIError
//	if errors.As(err, &apiErr) { log.Print(apiErr.StatusCode) }
//
// Every operation of the API is a generated method on [Client] (listed
// below); lists also have iterators. [MeetURL] builds the link a user joins
// a room with. Optional fields whose zero value means something are
// pointers: nil is not sent, [Ptr](false) is. The package example Workflow
// runs an integration's whole workflow against the mock in pagecalltest.
//
// A Client is safe for concurrent use; create one and share it.
//
// # Options
//
// Options come at two levels. An [Option] (WithTimeout, WithMaxRetries, …)
// is given to NewClient and sets the client-wide default for every call; a
// [CallOption] (WithCallTimeout, WithCallMaxRetries, …) is given to one
// call and overrides that default for that call only. Where both set the
// same thing, the CallOption wins: WithCallTimeout over WithTimeout,
// WithCallMaxRetries over WithMaxRetries. The two sets are two types so
// that a client-wide setting (an API key, a retry budget, shared limits
// such as pagecallredis.New returns) cannot be passed to a call, nor a
// per-call one (WithResponseInfo, WithHeader) to NewClient.
package pagecall

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/time/rate"
)

// DefaultBaseURL is Pagecall's production API.
const DefaultBaseURL = "https://api.pagecall.com/v1"

// Environment variables read by NewClient when the matching option is not
// given.
const (
	// EnvAPIKey names the variable holding the API key.
	EnvAPIKey = "PAGECALL_API_KEY"
	// EnvBaseURL names the variable holding the base URL.
	EnvBaseURL = "PAGECALL_BASE_URL"
)

// Client calls the Pagecall API. Create it with NewClient.
type Client struct {
	loop *requestLoop
}

// Option configures a Client.
type Option func(*settings)

type settings struct {
	apiKey, baseURL string
	apiKeySet       bool
	httpClient      *http.Client
	policy          RetryPolicy
	maxRetries      *int
	timeout         time.Duration
	maxBody         int64
	logger          *slog.Logger
	insecureHTTP    bool
	rateLimit       *rateLimit
	strict          bool
	product         string
	hooks           []Hooks
	sharedLimits    func(scope string) SharedLimits
}

// rateLimit is what WithRateLimit asked for.
type rateLimit struct {
	perSecond float64
	burst     int
}

// WithAPIKey sets the API key. Without it, NewClient reads PAGECALL_API_KEY.
func WithAPIKey(key string) Option {
	return func(s *settings) { s.apiKey, s.apiKeySet = key, true }
}

// WithBaseURL sets the API's base URL (default DefaultBaseURL, or
// PAGECALL_BASE_URL when set). It must be https, or http to a loopback host
// (see WithInsecureHTTP).
func WithBaseURL(u string) Option {
	return func(s *settings) { s.baseURL = u }
}

// WithHTTPClient sends requests with hc instead of the client's own tuned
// HTTP client. The Client uses a copy of hc whose CheckRedirect also strips
// the API key from redirects that leave the base URL.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) { s.httpClient = hc }
}

// WithRetryPolicy replaces the retry policy. Zero durations mean their
// defaults; MaxRetries is taken as given.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(s *settings) { s.policy = p }
}

// WithMaxRetries sets how many times a failed call is retried; 0 disables
// retries. It overrides the MaxRetries of WithRetryPolicy, in any order.
func WithMaxRetries(n int) Option {
	return func(s *settings) { s.maxRetries = &n }
}

// WithTimeout bounds each call, all attempts and waits included, when the
// caller's context has no deadline of its own (default DefaultTimeout).
// Zero or less means no bound beyond the context's.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) { s.timeout = d }
}

// WithMaxResponseBytes caps a response body (default
// DefaultMaxResponseBytes). A longer body fails the call with
// ErrResponseTooLarge instead of exhausting memory.
func WithMaxResponseBytes(n int64) Option {
	return func(s *settings) { s.maxBody = n }
}

// WithLogger logs each attempt, retry and retry-budget refusal at debug
// level. The API key is never logged. Default: no logging.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) { s.logger = l }
}

// WithInsecureHTTP allows a plain http:// base URL to a host that is not
// loopback. The API key then crosses the network in clear text: use it
// only inside a trusted network, such as a test cluster.
func WithInsecureHTTP() Option {
	return func(s *settings) { s.insecureHTTP = true }
}

// WithRateLimit caps the requests the client sends to perSecond on
// average, with bursts of at most burst, counting every attempt: retries
// too. A call waits for its turn before each attempt, within its context
// and the per-call timeout (WithTimeout); a call whose turn would come
// after its deadline fails at once with a *RequestError that satisfies
// errors.Is(err, context.DeadlineExceeded). perSecond must be above zero
// (math.Inf(1) means no limit) and burst at least 1, or NewClient fails
// with ErrInvalidRateLimit. Default: no limit.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(s *settings) { s.rateLimit = &rateLimit{perSecond: perSecond, burst: burst} }
}

// WithStrictResponses makes a 2xx answer whose body left the spec (see
// ResponseInfo.Drift) fail the call with a *RequestError that satisfies
// errors.Is(err, ErrMalformedResponse) and says that the server reported
// success. By default such a call succeeds with every field that fitted:
// Pagecall did the work, and the drift is logged at warn level and
// reported through WithResponseInfo. Use it in tests and contract checks,
// not where a retry or a failure report would hide work that was done.
func WithStrictResponses() Option {
	return func(s *settings) { s.strict = true }
}

// WithUserAgent puts the integrator's product token first in the
// User-Agent of every request ("myapp/1.4 pagecall-go/…"), so that
// Pagecall can tell its callers apart. A token that is not a valid header
// value fails NewClient with ErrInvalidHeader.
func WithUserAgent(product string) Option {
	return func(s *settings) { s.product = product }
}

// Limits of the default transport and of response handling.
const (
	// DefaultTimeout bounds one call, all attempts and waits included, when
	// the caller's context has no deadline. See WithTimeout.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxResponseBytes caps a response body. See WithMaxResponseBytes.
	DefaultMaxResponseBytes = 10 << 20
	// drainLimit is how much of an unwanted body (a failed attempt's, or an
	// error's) is read so that the connection can be reused. Proxy error
	// pages are often several KiB; past this the connection is closed.
	drainLimit = 64 << 10
	// maxRedirects is how many redirects one attempt follows.
	maxRedirects = 10

	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
	idleConnTimeout       = 90 * time.Second
	// maxIdleConnsPerHost keeps a connection for each of dozens of
	// concurrent callers; net/http's default of 2 makes a busy client open
	// and close a connection for almost every call.
	maxIdleConnsPerHost = 128
)

// newDefaultHTTPClient returns the HTTP client a Client uses unless
// WithHTTPClient is given: a transport of its own, tuned for concurrent use
// and bounded at every step.
func newDefaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   dialTimeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxIdleConnsPerHost,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}}
}

// NewClient returns a Client. It fails, before anything is sent, when the
// API key is missing or malformed, or the base URL is invalid or insecure.
func NewClient(opts ...Option) (*Client, error) {
	s := settings{
		policy:  DefaultRetryPolicy(),
		timeout: DefaultTimeout,
		maxBody: DefaultMaxResponseBytes,
	}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	if !s.apiKeySet {
		s.apiKey = os.Getenv(EnvAPIKey)
	}
	if s.apiKey == "" {
		return nil, ErrMissingAPIKey
	}
	if err := validateAPIKey(s.apiKey); err != nil {
		return nil, err
	}
	if s.baseURL == "" {
		s.baseURL = os.Getenv(EnvBaseURL)
	}
	if s.baseURL == "" {
		s.baseURL = DefaultBaseURL
	}
	base, err := parseBaseURL(s.baseURL, s.insecureHTTP)
	if err != nil {
		return nil, err
	}
	if s.maxRetries != nil {
		s.policy.MaxRetries = *s.maxRetries
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxResponseBytes
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}

	ua, err := userAgent(s.product)
	if err != nil {
		return nil, err
	}

	var limiter *rate.Limiter
	if r := s.rateLimit; r != nil {
		if !(r.perSecond > 0) || r.burst < 1 {
			return nil, fmt.Errorf("%w: %v per second with bursts of %d", ErrInvalidRateLimit, r.perSecond, r.burst)
		}
		if !math.IsInf(r.perSecond, 1) {
			limiter = rate.NewLimiter(rate.Limit(r.perSecond), r.burst)
		}
	}

	hooks := newHookSet(s.hooks, base.Hostname(), defaultPort(base.Scheme, base.Port()))
	loop := &requestLoop{
		base:      base,
		server:    strings.TrimSuffix(base.String(), "/") + "/",
		root:      strings.TrimSuffix(base.String(), "/"),
		basePath:  strings.TrimSuffix(base.EscapedPath(), "/") + "/",
		auth:      secretHeader("Bearer " + s.apiKey),
		userAgent: []string{ua}[:1:1],
		policy:    s.policy.withDefaults(),
		budget:    newRetryBudget(s.policy.withDefaults()),
		limiter:   limiter,
		pause:     &pause{},
		timeout:   s.timeout,
		maxBody:   s.maxBody,
		strict:    s.strict,
		drift:     &driftLog{},
		shared:    newShared(s.sharedLimits, base.String(), s.apiKey, s.logger, hooks),
		hooks:     hooks,
		log:       s.logger,
		now:       time.Now,
	}
	hc := newDefaultHTTPClient()
	if s.httpClient != nil {
		cp := *s.httpClient
		hc = &cp
	}
	hc.CheckRedirect = loop.checkRedirect(hc.CheckRedirect)
	loop.hc = hc
	return &Client{loop: loop}, nil
}

// RetryBudget returns the tokens left in the client's retry budget, from 0
// to RetryPolicy.BudgetCapacity (400 by default; always the capacity when
// RetryPolicy.DisableBudget turns it off). An attempt that fails in a way
// worth retrying, whatever its method, takes 5 tokens (10 for a timeout)
// and may be retried only if they were there to take; a call the service
// answers in the end gives back what its failures took, and one answered
// at once adds 1. It is for metrics and debugging: a value below 5 means
// the API has failed often enough that this client has stopped retrying
// and makes one attempt per call, until successes earn tokens back.
func (c *Client) RetryBudget() float64 { return c.loop.budget.tokens() }

// PausedUntil returns when the client-wide pause ends, or the zero time
// when there is none. A 429 or 503 answer with Retry-After pauses every
// call of the client, not only the one that got it, for the time asked
// (capped by RetryPolicy.MaxRetryAfter): calls wait before their next
// attempt, and a call whose deadline ends before the pause fails at once
// with a copy of that answer's *APIError. It is for metrics and debugging.
func (c *Client) PausedUntil() time.Time { return c.loop.pause.pausedUntil() }

// BaseURL returns the base URL the client sends requests to.
func (c *Client) BaseURL() string { return c.loop.base.String() }

// String describes the client without its API key.
func (c *Client) String() string {
	return fmt.Sprintf("pagecall.Client{BaseURL: %q, APIKey: %s}", c.loop.base.String(), redacted)
}

// GoString is String, so that %#v does not print the API key either.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb, so that no fmt verb reaches the
// API key through reflection.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue logs the client without its API key.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// modulePath is this module's path, which build information names it by.
const modulePath = "github.com/pplink/pagecall-go"

// userAgent returns the User-Agent of every request: product (when given),
// then "pagecall-go/<version> (<goos>/<goarch>; <go version>)". The version
// is the module's, from build information when the SDK is a dependency,
// "(devel)" otherwise.
func userAgent(product string) (string, error) {
	product = strings.TrimSpace(product)
	if product != "" && !httpguts.ValidHeaderFieldValue(product) {
		return "", fmt.Errorf("%w: WithUserAgent(%q) is not a valid header value", ErrInvalidHeader, product)
	}
	ua := fmt.Sprintf("pagecall-go/%s (%s/%s; %s)", moduleVersion(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if product != "" {
		ua = product + " " + ua
	}
	return ua, nil
}

// moduleVersion returns this module's version from build information.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if bi.Main.Path == modulePath && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			if d.Version != "" {
				return d.Version
			}
		}
	}
	return "(devel)"
}

// validateAPIKey accepts only visible ASCII, which is all an API key is made
// of and all that an HTTP header carries safely.
func validateAPIKey(key string) error {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c >= 0x7f {
			return ErrInvalidAPIKey
		}
	}
	return nil
}

// parseBaseURL checks that raw is an absolute http(s) URL with a host and no
// credentials, query or fragment, and that plain http goes only to
// loopback unless allowed.
func parseBaseURL(raw string, insecureOK bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidBaseURL, unwrapURLError(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: %q: scheme must be https or http", ErrInvalidBaseURL, raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("%w: %q has no host", ErrInvalidBaseURL, raw)
	case u.User != nil:
		return nil, fmt.Errorf("%w: credentials in the URL are not allowed", ErrInvalidBaseURL)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("%w: %q has a query or fragment", ErrInvalidBaseURL, raw)
	case u.Scheme == "http" && !insecureOK && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("%w: %s", ErrInsecureBaseURL, u.Host)
	}
	return u, nil
}

// isLoopback reports whether host is localhost or a loopback IP address.
// It resolves nothing.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redacted stands for the API key wherever the client describes itself.
const redacted = "[REDACTED]"

// secretHeader hides the Authorization header value in a closure, so that
// nothing that prints structs by reflection (fmt's %+v, spew, a debugger's
// pretty-printer) can reach the API key through the client's fields.
func secretHeader(v string) func() string { return func() string { return v } }
