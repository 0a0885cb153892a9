package pagecalltest

import (
	"log/slog"
	"net"
	"time"

	"github.com/pplink/pagecall-go/api"
)

// APIKey is the bearer token a Server accepts unless WithAPIKey says
// otherwise.
const APIKey = "pagecall-test-key"

// DefaultAddr is the address a Server listens on unless WithAddr or
// WithListener says otherwise: loopback, on a port the system picks.
const DefaultAddr = "127.0.0.1:0"

// Option configures NewServer.
type Option func(*config)

type config struct {
	apiKey   string
	addr     string
	listener net.Listener
	logger   *slog.Logger
	openapi  []byte
	overlay  []byte
	maxBody  int64

	webhookTimeout time.Duration // WithWebhookTimeout
	control        bool          // WithControlEndpoint
	// maxRequests caps the request log; -1 keeps every request.
	maxRequests int
}

func defaultConfig() config {
	return config{
		apiKey:  APIKey,
		addr:    DefaultAddr,
		logger:  slog.New(slog.DiscardHandler),
		openapi: api.OpenAPI,
		overlay: api.Overlay,
		maxBody: 1 << 20,

		maxRequests: -1,
	}
}

// WithAPIKey sets the bearer token the server accepts.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithAddr sets the address to listen on, e.g. "127.0.0.1:4010".
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithListener makes the server serve on l instead of listening itself.
// Close closes l.
func WithListener(l net.Listener) Option { return func(c *config) { c.listener = l } }

// WithLogger sets the logger for one line per request and for server
// errors. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithSpec serves the given OpenAPI document, with the given overlay applied
// (nil for none), instead of the embedded api.OpenAPI and api.Overlay.
func WithSpec(openapi, overlay []byte) Option {
	return func(c *config) { c.openapi, c.overlay = openapi, overlay }
}

// WithMaxRequests keeps at most the n most recent requests in the log that
// Requests returns (0 keeps none), so that a long-running server, such as
// "pagecall mock" under a bulk delete of a million users, does not grow
// without bound. By default every request is kept.
func WithMaxRequests(n int) Option {
	return func(c *config) { c.maxRequests = max(n, 0) }
}
