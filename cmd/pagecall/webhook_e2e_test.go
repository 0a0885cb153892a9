//go:build !anyspec

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
	"github.com/pplink/pagecall-go/webhook"
)

// startListener runs "pagecall webhook listen" on a free port and returns
// it with the URL it serves.
func startListener(t *testing.T, secretFile string) (*runningCLI, string) {
	t.Helper()
	l := start(t, cliEnv(), "webhook", "listen", "--addr", "127.0.0.1:0", "--secret-file", secretFile)
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(l.stderr.String(), "Press Ctrl-C to stop.") })
	m := regexp.MustCompile(`Listening for Pagecall webhooks on (http://127\.0\.0\.1:\d+)/`).FindStringSubmatch(l.stderr.String())
	if m == nil {
		t.Fatalf("no address in the listener's output:\n%s", l.stderr)
	}
	return l, m[1]
}

// runningCLI is a run of the binary in the background.
type runningCLI struct {
	stdout, stderr *syncBuffer
	stop           func(os.Signal) cliResult // signals, then waits for the exit
}

// start starts the binary and returns a handle whose stop sends a signal
// and waits for the exit.
func start(t *testing.T, env []string, args ...string) *runningCLI {
	t.Helper()
	cmd, stdout, stderr := command(t, env, "", args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &runningCLI{stdout: stdout, stderr: stderr}
	r.stop = func(sig os.Signal) cliResult {
		_ = cmd.Process.Signal(sig)
		return result(t, cmd, cmd.Wait(), stdout, stderr)
	}
	return r
}

// events parses the listener's JSON lines.
func events(t *testing.T, stdout string) []webhook.Event {
	t.Helper()
	var out []webhook.Event
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var ev webhook.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("listener line %q is not an event: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

// TestTriggerAndListen is the CLI pair end to end, as built binaries:
// "pagecall mock", a room whose webhook points at "pagecall webhook listen"
// with a secret from "pagecall webhook secret", then "pagecall trigger" for
// a join and a leave. The listener prints both events with the right
// counts and times, refuses forged deliveries, and stops on Ctrl-C with
// status 130.
func TestTriggerAndListen(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()

	mock := start(t, cliEnv(), "mock", "--addr", "127.0.0.1:0", "--quiet")
	waitFor(t, 10*time.Second, func() bool { return strings.Contains(mock.stdout.String(), "Press Ctrl-C to stop.") })
	base := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+/v1)`).FindStringSubmatch(mock.stdout.String())
	if base == nil {
		t.Fatalf("no base URL in the mock's output:\n%s", mock.stdout)
	}
	env := cliEnv("PAGECALL_BASE_URL=" + base[1])

	sec := runCLI(t, cliEnv(), "", "webhook", "secret")
	secret := strings.TrimSpace(sec.stdout)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(sec.stdout), 0o600); err != nil || sec.code != exitOK {
		t.Fatalf("webhook secret: exit %d, %v", sec.code, err)
	}
	listener, hookURL := startListener(t, secretFile)

	c, err := pagecall.NewClient(pagecall.WithAPIKey(pagecalltest.APIKey), pagecall.WithBaseURL(base[1]))
	if err != nil {
		t.Fatal(err)
	}
	newRoom := func(secret string) string {
		req := pagecall.CreateRoomRequest{Name: "standup", Type: pagecall.RoomTypeOpen}
		if err := webhook.SetRoomWebhook(&req, hookURL+"/pagecall", webhook.DefaultSecretHeader, secret); err != nil {
			t.Fatal(err)
		}
		room, err := c.CreateRoom(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return room.ID
	}
	room := newRoom(secret)

	var sent []webhook.Event // what trigger reports it delivered
	for i, event := range []string{"session-joined", "session-left"} {
		r := runCLI(t, env, "", "trigger", event, "--room", room, "--user", "external_user_102932")
		var res pagecalltest.TriggerResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != exitOK || res.Status != http.StatusOK {
			t.Fatalf("trigger %s: exit %d, result %+v (%v); want 0 and status 200", event, r.code, res, err)
		}
		var ev webhook.Event
		if err := json.Unmarshal(res.Event, &ev); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, ev)
		waitFor(t, 10*time.Second, func() bool { return len(events(t, listener.stdout.String())) == i+1 })
	}
	got := events(t, listener.stdout.String())
	for i, w := range []struct {
		action            string
		sessions, members int
	}{{webhook.ActionSessionJoined, 1, 1}, {webhook.ActionSessionLeft, 0, 0}} {
		p := got[i].Payload
		if got[i].Action != w.action || p.RoomID != room || p.UserID != "external_user_102932" ||
			p.SessionsCount != w.sessions || p.MembersCount != w.members {
			t.Errorf("event %d = %+v, want %s with %d sessions and %d members", i, got[i], w.action, w.sessions, w.members)
		}
		if !p.Timestamp.Equal(sent[i].Payload.Timestamp) || time.Since(p.Timestamp) > time.Minute || got[i].Payload.SessionID != sent[i].Payload.SessionID {
			t.Errorf("event %d = %+v, want what trigger sent, %+v, at the time of the trigger", i, got[i], sent[i])
		}
	}
	if got[0].Payload.SessionID != got[1].Payload.SessionID || !got[1].Payload.Timestamp.After(got[0].Payload.Timestamp) {
		t.Errorf("the leave %+v does not end the session joined in %+v", got[1], got[0])
	}

	// Nothing to leave: the mock refuses, nothing is delivered.
	if r := runCLI(t, env, "", "trigger", "session-left", "--room", room, "--user", "external_user_102932"); r.code != exitFailure || !strings.Contains(r.stderr, "no open session") {
		t.Errorf("a second leave: exit %d, stderr %q; want 1 and no open session", r.code, r.stderr)
	}
	// A room created with another secret: the listener refuses its webhook.
	other := newRoom("not-the-listeners-secret")
	r := runCLI(t, env, "", "trigger", "session-joined", "--room", other, "--user", "external_user_102932")
	if r.code != exitFailure || !strings.Contains(r.stdout, `"status":401`) || !strings.Contains(r.stderr, "answered 401") {
		t.Errorf("wrong secret: exit %d; want 1 with the receiver's 401 reported", r.code)
	}
	// Forged deliveries straight at the listener.
	for _, header := range []string{"", "guess"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hookURL+"/pagecall", strings.NewReader(`{"action":"sessionJoined","payload":{"roomId":"x"}}`))
		if header != "" {
			req.Header.Set(webhook.DefaultSecretHeader, header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("forged delivery: status %d, want 401", resp.StatusCode)
		}
	}
	if n := len(events(t, listener.stdout.String())); n != 2 {
		t.Errorf("the listener printed %d events, want still 2", n)
	}

	lr := listener.stop(syscall.SIGINT)
	if lr.code != exitInterrupted {
		t.Errorf("listener exit %d after SIGINT, want 130", lr.code)
	}
	if n := strings.Count(lr.stderr, "delivery refused"); n != 3 {
		t.Errorf("the listener logged %d refusals, want 3 (two forged, one wrong secret)", n)
	}
	if strings.Contains(lr.stdout+lr.stderr, secret) {
		t.Error("the listener printed the secret")
	}
	if mr := mock.stop(syscall.SIGINT); mr.code != exitOK {
		t.Errorf("mock exit %d after SIGINT, want 0", mr.code)
	}
}
