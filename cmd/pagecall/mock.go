package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
	"github.com/spf13/cobra"
)

// permanentFault is the Count of a fault that should outlast any session.
const permanentFault = 1 << 30

type mockOptions struct {
	addr       string
	apiKeyFile string
	users      []string
	failNext   int
	failStatus int
	retryAfter string
	failIDs    []string
	quiet      bool
}

func newMockCmd(e *env) *cobra.Command {
	var o mockOptions
	cmd := &cobra.Command{
		Use:   "mock [flags]",
		Short: "Serve a mock Pagecall API on a loopback address",
		Long: `Serve a mock Pagecall API at http://ADDR/v1 until interrupted.

The mock answers every operation of the embedded OpenAPI document, checks
the bearer key, validates requests and keeps users in memory, seeded with
external_user_102932 (add more with --user). Deleting an unknown user gets
the API's 400 error. It prints the base URL and a command to try on stdout
and logs one line per request on stderr.

Faults can be injected at start: --fail-next N answers the next N requests
with --fail-status (and Retry-After: --retry-after), and --fail-id ID
answers every DELETE of that user with --fail-status.

The mock listens on loopback only: it is a test tool with a well-known key.`,
		Example: `  pagecall mock
  pagecall mock --addr 127.0.0.1:4010 --user alice --user bob --fail-id bob --fail-status 500
  pagecall mock --fail-next 1 --fail-status 503 --retry-after 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMock(cmd.Context(), e, &o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.addr, "addr", "127.0.0.1:4010", "loopback address to listen on (port 0 picks a free one)")
	fs.StringVar(&o.apiKeyFile, "api-key-file", "", "accept the key in this file instead of "+pagecalltest.APIKey)
	fs.StringArrayVar(&o.users, "user", nil, "add a user with this ID to the store (repeatable)")
	fs.IntVar(&o.failNext, "fail-next", 0, "answer the next N requests with --fail-status")
	fs.IntVar(&o.failStatus, "fail-status", 503, "HTTP status of injected failures")
	fs.StringVar(&o.retryAfter, "retry-after", "", "Retry-After header sent with --fail-next failures, e.g. 1")
	fs.StringArrayVar(&o.failIDs, "fail-id", nil, "answer every DELETE of this user ID with --fail-status (repeatable)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "do not log requests")
	return cmd
}

// runMock is "pagecall mock".
func runMock(ctx context.Context, e *env, o *mockOptions) error {
	if err := checkLoopback(o.addr); err != nil {
		return withCode(exitUsage, err)
	}
	if o.failStatus < 400 || o.failStatus > 599 {
		return usageErrorf("--fail-status must be an HTTP error status (400-599), not %d", o.failStatus)
	}
	if o.failNext < 0 {
		return usageErrorf("--fail-next must not be negative")
	}
	if o.retryAfter != "" {
		if n, err := strconv.Atoi(o.retryAfter); err != nil || n < 0 {
			return usageErrorf("--retry-after must be a number of seconds, not %q", o.retryAfter)
		}
	}
	key, keyShown := pagecalltest.APIKey, pagecalltest.APIKey
	if o.apiKeyFile != "" {
		k, err := readKeyFile(o.apiKeyFile)
		if err != nil {
			return withCode(exitUsage, err)
		}
		key, keyShown = k, `"$(cat `+o.apiKeyFile+`)"`
	}
	log := slog.New(slog.DiscardHandler)
	if !o.quiet {
		log = slog.New(slog.NewTextHandler(e.Stderr, nil))
	}
	srv, err := pagecalltest.NewServer(
		pagecalltest.WithControlEndpoint(), // for pagecall trigger
		pagecalltest.WithAddr(o.addr),
		pagecalltest.WithAPIKey(key),
		pagecalltest.WithLogger(log),
	)
	if err != nil {
		return withCode(exitFailure, err)
	}
	defer srv.Close()
	for _, id := range o.users {
		if err := pagecall.ValidateUserID(id); err != nil {
			return withCode(exitUsage, fmt.Errorf("--user: %w", err))
		}
		srv.AddUser(id, nil)
	}
	for _, id := range o.failIDs {
		srv.Inject(pagecalltest.Fault{
			Route:  "DELETE /users/" + url.PathEscape(id),
			Count:  permanentFault,
			Status: o.failStatus,
		})
	}
	if o.failNext > 0 {
		srv.Inject(pagecalltest.Fault{Count: o.failNext, Status: o.failStatus, RetryAfter: o.retryAfter})
	}

	fmt.Fprintf(e.Stdout, "Mock Pagecall API listening on %s\n", srv.URL())
	fmt.Fprintf(e.Stdout, "Users: %s\n", strings.Join(srv.UserIDs(), ", "))
	if len(o.failIDs) > 0 {
		fmt.Fprintf(e.Stdout, "Failing every DELETE of: %s (status %d)\n", strings.Join(o.failIDs, ", "), o.failStatus)
	}
	if o.failNext > 0 {
		fmt.Fprintf(e.Stdout, "Failing the next %d request(s) with status %d\n", o.failNext, o.failStatus)
	}
	fmt.Fprintf(e.Stdout, "Try:\n  %s=%s %s=%s pagecall users delete external_user_102932\n",
		pagecall.EnvBaseURL, srv.URL(), pagecall.EnvAPIKey, keyShown)
	fmt.Fprintln(e.Stdout, "Rooms created with a webhook on loopback get session events from:\n  pagecall trigger session-joined --room ROOM_ID --user USER_ID")
	fmt.Fprintln(e.Stdout, "Press Ctrl-C to stop.")

	ctx, sw := watchSignals(ctx, e.Signals, e.Stderr, "stopping the mock")
	defer sw.Release()
	select {
	case <-sw.Stopped():
	case <-ctx.Done():
	}
	return nil
}

// checkLoopback refuses an address whose host is not loopback.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %q: the mock listens on loopback only (e.g. 127.0.0.1:4010)", addr)
}
