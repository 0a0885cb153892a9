// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// TestContractWriteInterrupted runs the built binary with --write, stops it
// with SIGINT while a write is in flight (held by the mock), and checks
// that it removed everything it had created before exiting 130. Two
// signals abort the call in flight; the cleanup runs all the same.
func TestContractWriteInterrupted(t *testing.T) {
	t.Parallel()
	for _, signals := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d signals", signals), func(t *testing.T) {
			t.Parallel()
			srv := pagecalltest.NewTestServer(t)
			// CreateMember is held long enough for the signals to come in
			// while the user and the room exist.
			srv.Inject(pagecalltest.Fault{Route: "POST /rooms/{room_id}/members", Delay: time.Second})
			cmd, stdout, stderr := command(t, mockEnv(srv), "", "contract", "check", "--write", "--format", "jsonl")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, func() bool { return len(contractObjects(srv)) == 2 })
			for range signals {
				_ = cmd.Process.Signal(syscall.SIGINT)
				time.Sleep(50 * time.Millisecond) // two signals, not one coalesced
			}
			r := result(t, cmd, cmd.Wait(), stdout, stderr)
			if r.code != exitInterrupted {
				t.Errorf("exit %d, want 130", r.code)
			}
			if left := contractObjects(srv); len(left) != 0 {
				t.Errorf("left behind after SIGINT: %v", left)
			}
			if !strings.Contains(r.stderr, "interrupt: starting no new call; removing what was created") {
				t.Errorf("stderr lacks the notice of the first signal")
			}
			// The interrupted run stopped: CreateRoomPages, the last write,
			// was never sent.
			for _, req := range srv.Requests() {
				if req.OperationID == "CreateRoomPages" {
					t.Errorf("a call after the interrupt: %s %s", req.Method, req.Path)
				}
			}
		})
	}
}

// TestDeleteDriftedAnswer: a 200 whose body drifts from the spec is a
// deleted user. users delete records "deleted" with the drift noted, its
// attempts are the requests that reached the server (one DELETE per ID, by
// the mock's log), and it exits 0.
func TestDeleteDriftedAnswer(t *testing.T) {
	t.Parallel()
	srv := newMock(t, "a", "b")
	plant(t, srv, "DeleteUser:/user/created_at:retype")
	r := runCLI(t, mockEnv(srv), "a\nb\n", "users", "delete", "--file", "-")
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0; stderr %s", r.code, r.stderr)
	}
	recs := records(t, r.stdout)
	perID := map[string]int{}
	for _, p := range deletePaths(srv) {
		perID[strings.TrimPrefix(p, "/v1/users/")]++
	}
	for _, id := range []string{"a", "b"} {
		rec := recs[id]
		if rec.Outcome != outcomeDeleted || rec.Status != 200 {
			t.Errorf("%s: %+v, want deleted with status 200", id, rec)
		}
		if len(rec.Drift) != 1 || !strings.Contains(rec.Drift[0], "/user/created_at") {
			t.Errorf("%s: drift %q, want one at /user/created_at", id, rec.Drift)
		}
		if perID[id] != 1 || rec.Attempts != perID[id] {
			t.Errorf("%s: attempts %d, requests that reached the server %d, want 1 and 1", id, rec.Attempts, perID[id])
		}
		if srv.UserExists(id) {
			t.Errorf("%s still exists", id)
		}
	}
}
