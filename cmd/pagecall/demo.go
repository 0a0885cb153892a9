package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
	"github.com/spf13/cobra"
)

// demoUser is the user the mock is seeded with, from the spec's example.
const demoUser = "external_user_102932"

// demoTimeout bounds the whole demo.
const demoTimeout = 30 * time.Second

func newDemoCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Show the SDK at work against a local mock (no API key, no network)",
		Long: `Start a mock Pagecall API in-process on 127.0.0.1, make it answer the
first request with 503 and Retry-After: 1, then delete the example user
` + demoUser + ` through the SDK and show each attempt, the wait and the
result; then delete it again to show the typed *pagecall.APIError.

Needs no API key and no network.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), e)
		},
	}
}

// runDemo is "pagecall demo".
func runDemo(ctx context.Context, e *env) error {
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	go func() { // Ctrl-C ends the demo at once: nothing in it needs finishing
		select {
		case <-e.Signals:
			cancel()
		case <-ctx.Done():
		}
	}()

	srv, err := pagecalltest.NewServer() // 127.0.0.1, a free port
	if err != nil {
		return withCode(exitFailure, err)
	}
	defer srv.Close()
	// The literal path, not the spec's template: the template's parameter
	// name changed between spec versions ({id}, later {user_id}).
	srv.Inject(pagecalltest.Fault{Route: "DELETE /users/" + demoUser, Status: http.StatusServiceUnavailable, RetryAfter: "1"})

	out := e.Stdout
	attempts := &attemptPrinter{w: out, indent: "   "}
	c, err := pagecall.NewClient(
		pagecall.WithAPIKey(srv.APIKey()),
		pagecall.WithBaseURL(srv.URL()),
		pagecall.WithLogger(slog.New(attempts)),
	)
	if err != nil {
		return withCode(exitFailure, err)
	}

	fmt.Fprintf(out, "Pagecall Go SDK demo: a mock API is running at %s\n", srv.URL())
	fmt.Fprintf(out, "It will answer the first request with 503 Service Unavailable and Retry-After: 1.\n\n")

	fmt.Fprintf(out, "1. c.DeleteUser(ctx, %q)\n", demoUser)
	start := time.Now()
	user, err := c.DeleteUser(ctx, demoUser)
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintf(out, "   unexpected error: %v\n", err)
		return withCode(exitFailure, errors.New("the demo did not go as planned"))
	}
	fmt.Fprintf(out, "   deleted in %d attempts, %.1fs (the SDK waited out the Retry-After). The user was:\n", attempts.count(), elapsed.Seconds())
	fmt.Fprint(out, "   ")
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("   ", "  ")
	_ = enc.Encode(user)
	fmt.Fprintln(out)

	fmt.Fprintf(out, "2. The same call again: the user is gone, so the API refuses.\n")
	attempts.reset()
	_, err = c.DeleteUser(ctx, demoUser)
	var apiErr *pagecall.APIError
	if !errors.As(err, &apiErr) {
		fmt.Fprintf(out, "   unexpected result: %v\n", err)
		return withCode(exitFailure, errors.New("the demo did not go as planned"))
	}
	fmt.Fprintf(out, "   err: %v\n", err)
	fmt.Fprintf(out, "   var apiErr *pagecall.APIError; errors.As(err, &apiErr) == true\n")
	fmt.Fprintf(out, "   apiErr.StatusCode = %d, apiErr.Message = %q, apiErr.Attempts = %d (a 400 is not retried)\n\n",
		apiErr.StatusCode, apiErr.Message, apiErr.Attempts)

	fmt.Fprintf(out, "Next: run \"pagecall mock\" and point the CLI or your code at it with\n")
	fmt.Fprintf(out, "%s=%s and %s=%s.\n", pagecall.EnvBaseURL, "http://127.0.0.1:4010/v1", pagecall.EnvAPIKey, pagecalltest.APIKey)
	return nil
}

// attemptPrinter is a slog.Handler that turns the SDK's debug log of
// attempts and retries into short, friendly lines.
type attemptPrinter struct {
	mu     sync.Mutex
	w      io.Writer
	indent string
	n      int // attempts seen since the last reset
}

// Enabled accepts everything: the SDK logs attempts at debug level.
func (p *attemptPrinter) Enabled(context.Context, slog.Level) bool { return true }

// WithAttrs ignores attrs; the SDK logs with none preset.
func (p *attemptPrinter) WithAttrs([]slog.Attr) slog.Handler { return p }

// WithGroup ignores groups; the SDK logs with none.
func (p *attemptPrinter) WithGroup(string) slog.Handler { return p }

// Handle prints one line for each attempt the SDK reports.
func (p *attemptPrinter) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Resolve()
		return true
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	var line string
	switch {
	case strings.HasSuffix(r.Message, "attempt succeeded"):
		p.n++
		status := int(attrs["status"].Int64())
		line = fmt.Sprintf("attempt %d: %d %s", attrs["attempt"].Int64(), status, http.StatusText(status))
	case strings.HasSuffix(r.Message, "attempt failed"):
		p.n++
		line = fmt.Sprintf("attempt %d: %s\n%s-> retrying in %s", attrs["attempt"].Int64(),
			strings.TrimPrefix(attrs["error"].String(), "pagecall: "), p.indent, attrs["wait"])
	default:
		line = strings.TrimPrefix(r.Message, "pagecall: ")
	}
	_, err := fmt.Fprintf(p.w, "%s%s\n", p.indent, line)
	return err
}

func (p *attemptPrinter) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

func (p *attemptPrinter) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = 0
}
