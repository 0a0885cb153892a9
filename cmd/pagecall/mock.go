package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

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
	failFor    time.Duration
	failRate   float64
	seed       uint64
	blip       int
	drift      []string
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

Faults can be injected at start, each answering with --fail-status (and
Retry-After: --retry-after, if given):
  --fail-next N   the next N requests
  --fail-id ID    every DELETE of that user
  --fail-for D    every request for D from the first one: with
                  --fail-status 429 --retry-after 1, a rate limit
  --fail-rate P   a random share P (0-1) of all requests; --seed fixes
                  which ones
  --blip N        the first N requests are held until all N have arrived,
                  then answered at the same moment: a blip that N callers
                  meet together

Drift can be planted in successful answers, to see how a client copes when
Pagecall answers off-spec (repeatable; KIND is retype, remove, null, enum or
extra; a * segment in the JSON pointer is every item of a list):
  --drift GetUser:/user/created_at:retype
  --drift ListUsers:/users/*/name:null

The mock listens on loopback only: it is a test tool with a well-known key.`,
		Example: `  pagecall mock
  pagecall mock --addr 127.0.0.1:4010 --user alice --user bob --fail-id bob --fail-status 500
  pagecall mock --fail-next 1 --fail-status 503 --retry-after 1
  pagecall mock --fail-for 1s --fail-status 429 --retry-after 1
  pagecall mock --fail-rate 0.05 --seed 1
  pagecall mock --blip 64
  pagecall mock --drift GetUser:/user/created_at:retype --drift DeleteUser:/user/created_at:retype`,
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
	fs.DurationVar(&o.failFor, "fail-for", 0, "answer every request with --fail-status for this long after the first")
	fs.Float64Var(&o.failRate, "fail-rate", 0, "answer this random share (0-1) of requests with --fail-status")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of --fail-rate's draws (0: random)")
	fs.IntVar(&o.blip, "blip", 0, "hold the first N requests until all have arrived, then answer them with --fail-status together")
	fs.StringArrayVar(&o.drift, "drift", nil, "plant drift in successful answers: OPERATION:POINTER:KIND, KIND one of retype, remove, null, enum, extra (repeatable)")
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
	if o.failNext < 0 || o.blip < 0 || o.failFor < 0 {
		return usageErrorf("--fail-next, --fail-for and --blip must not be negative")
	}
	if !(o.failRate >= 0 && o.failRate <= 1) {
		return usageErrorf("--fail-rate must be between 0 and 1, not %v", o.failRate)
	}
	if o.retryAfter != "" {
		if n, err := strconv.Atoi(o.retryAfter); err != nil || n < 0 {
			return usageErrorf("--retry-after must be a number of seconds, not %q", o.retryAfter)
		}
	}
	var drift []pagecalltest.Drift
	for _, d := range o.drift {
		pd, err := pagecalltest.ParseDrift(d)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("--drift: %w", err))
		}
		drift = append(drift, pd)
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
		pagecalltest.WithMaxRequests(0), // nothing reads the log: keep memory flat
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
	if err := srv.PlantDrift(drift...); err != nil {
		return withCode(exitUsage, fmt.Errorf("--drift: %w", err))
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
	if o.blip > 0 {
		srv.Inject(pagecalltest.Fault{Count: o.blip, Together: true, Status: o.failStatus, RetryAfter: o.retryAfter})
	}
	if o.failFor > 0 {
		srv.Inject(pagecalltest.Fault{Window: o.failFor, Status: o.failStatus, RetryAfter: o.retryAfter})
	}
	if o.failRate > 0 {
		srv.Inject(pagecalltest.Fault{Rate: o.failRate, Seed: o.seed, Status: o.failStatus, RetryAfter: o.retryAfter})
	}

	fmt.Fprintf(e.Stdout, "Mock Pagecall API listening on %s\n", srv.URL())
	fmt.Fprintf(e.Stdout, "Users: %s\n", strings.Join(srv.UserIDs(), ", "))
	if len(o.failIDs) > 0 {
		fmt.Fprintf(e.Stdout, "Failing every DELETE of: %s (status %d)\n", strings.Join(o.failIDs, ", "), o.failStatus)
	}
	if o.failNext > 0 {
		fmt.Fprintf(e.Stdout, "Failing the next %d request(s) with status %d\n", o.failNext, o.failStatus)
	}
	if o.blip > 0 {
		fmt.Fprintf(e.Stdout, "Failing the first %d request(s) together with status %d\n", o.blip, o.failStatus)
	}
	if o.failFor > 0 {
		fmt.Fprintf(e.Stdout, "Failing every request for %v from the first, with status %d\n", o.failFor, o.failStatus)
	}
	if o.failRate > 0 {
		fmt.Fprintf(e.Stdout, "Failing %.4g%% of requests at random with status %d\n", 100*o.failRate, o.failStatus)
	}
	for _, d := range drift {
		fmt.Fprintf(e.Stdout, "Planting drift: %s\n", d)
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
