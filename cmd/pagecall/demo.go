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

// demoUser is the user the demo creates.
const demoUser = "ada"

// demoTimeout bounds the whole demo.
const demoTimeout = 30 * time.Second

func newDemoCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Show the SDK at work against a local mock (no API key, no network)",
		Long: `Start a mock Pagecall API in-process on 127.0.0.1 and run an integration's
whole workflow through the SDK: create a user (the mock answers the first
try with 503 and Retry-After: 1, and the SDK retries it, since CreateUser is
an upsert), a private room with recording off, the user as its host, the
meeting URL, the members, then terminate the room and delete the user;
deleting it again shows the typed *pagecall.APIError.

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
	srv.Inject(pagecalltest.Fault{Route: "POST /users", Status: http.StatusServiceUnavailable, RetryAfter: "1"})

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
	failed := func(step string, err error) error {
		fmt.Fprintf(out, "   unexpected error: %v\n", err)
		return withCode(exitFailure, fmt.Errorf("the demo did not go as planned at %s", step))
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)

	fmt.Fprintf(out, "Pagecall Go SDK demo: a mock API is running at %s\n", srv.URL())
	fmt.Fprintf(out, "It will answer the first POST /users with 503 Service Unavailable and Retry-After: 1.\n\n")

	fmt.Fprintf(out, "1. c.CreateUser(ctx, pagecall.CreateUserRequest{UserID: %q, Name: \"Ada\"})\n", demoUser)
	start := time.Now()
	user, err := c.CreateUser(ctx, pagecall.CreateUserRequest{UserID: demoUser, Name: "Ada"})
	if err != nil {
		return failed("CreateUser", err)
	}
	fmt.Fprintf(out, "   created in %d attempts, %.1fs: CreateUser is an upsert by user_id, so the SDK\n", attempts.count(), time.Since(start).Seconds())
	fmt.Fprintf(out, "   retries it as it would a PUT, after waiting out the Retry-After.\n\n")
	attempts.quiet(true) // the rest succeeds at once; show results only

	fmt.Fprintf(out, "2. c.CreateRoom(ctx, pagecall.CreateRoomRequest{Name: \"standup\", Type: pagecall.RoomTypePrivate, Record: pagecall.Ptr(false)})\n")
	room, err := c.CreateRoom(ctx, pagecall.CreateRoomRequest{Name: "standup", Type: pagecall.RoomTypePrivate, Record: pagecall.Ptr(false)})
	if err != nil {
		return failed("CreateRoom", err)
	}
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && r.Path == "/v1/rooms" {
			fmt.Fprintf(out, "   sent %s: record false is sent, the unset webhook is not\n", r.Body)
		}
	}
	fmt.Fprintf(out, "   room %s\n\n", room.ID)

	fmt.Fprintf(out, "3. c.CreateMember(ctx, room.ID, pagecall.CreateMemberRequest{UserID: %q, Type: pagecall.MemberTypeHost})\n", demoUser)
	member, err := c.CreateMember(ctx, room.ID, pagecall.CreateMemberRequest{UserID: user.UserID, Type: pagecall.MemberTypeHost})
	if err != nil {
		return failed("CreateMember", err)
	}
	fmt.Fprintf(out, "   member %s, type %s\n\n", member.ID, member.Type)

	fmt.Fprintf(out, "4. pagecall.MeetURL(room.ID, user.AccessToken)\n   %s\n\n", pagecall.MeetURL(room.ID, user.AccessToken))

	fmt.Fprintf(out, "5. for m, err := range c.ListMembersSeq(ctx, room.ID)\n")
	for m, err := range c.ListMembersSeq(ctx, room.ID) {
		if err != nil {
			return failed("ListMembersSeq", err)
		}
		fmt.Fprintf(out, "   %s (%s)\n", m.UserID, m.Type)
	}
	fmt.Fprintln(out)

	fmt.Fprintf(out, "6. c.UpdateRoom(ctx, room.ID, pagecall.UpdateRoomRequest{IsTerminated: pagecall.Ptr(true)})\n")
	room, err = c.UpdateRoom(ctx, room.ID, pagecall.UpdateRoomRequest{IsTerminated: pagecall.Ptr(true)})
	if err != nil {
		return failed("UpdateRoom", err)
	}
	fmt.Fprintf(out, "   terminated: %v\n\n", !room.TerminatedAt.IsZero())

	fmt.Fprintf(out, "7. c.DeleteUser(ctx, %q)\n", demoUser)
	deleted, err := c.DeleteUser(ctx, demoUser)
	if err != nil {
		return failed("DeleteUser", err)
	}
	fmt.Fprint(out, "   deleted: ")
	_ = enc.Encode(deleted)

	fmt.Fprintf(out, "   The same call again: the user is gone, so the API refuses.\n")
	attempts.reset()
	_, err = c.DeleteUser(ctx, demoUser)
	var apiErr *pagecall.APIError
	if !errors.As(err, &apiErr) {
		return failed("the second DeleteUser", err)
	}
	fmt.Fprintf(out, "   err: %v\n", err)
	fmt.Fprintf(out, "   var apiErr *pagecall.APIError; errors.As(err, &apiErr) == true\n")
	fmt.Fprintf(out, "   apiErr.StatusCode = %d, apiErr.Message = %q, apiErr.Attempts = %d (a 400 is not retried)\n\n",
		apiErr.StatusCode, apiErr.Message, apiErr.Attempts)

	fmt.Fprintf(out, "The mock received %d requests, each validated against the spec.\n", len(srv.Requests()))
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
	n      int  // attempts seen since the last reset
	silent bool // count attempts, print nothing
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
	if p.silent {
		return nil
	}
	_, err := fmt.Fprintf(p.w, "%s%s\n", p.indent, line)
	return err
}

// quiet turns the printing of attempts off or on.
func (p *attemptPrinter) quiet(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent = on
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
