//go:build !anyspec

package main

import (
	"strings"
	"testing"

	"github.com/pplink/pagecall-go/pagecalltest"
	"github.com/spf13/cobra"
)

// TestRedisFlagOnEveryAPICommand: every command that takes an API key can
// join a fleet.
func TestRedisFlagOnEveryAPICommand(t *testing.T) {
	root, err := newRootCmd(&env{}, true)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("max-retries") != nil { // clientFlags: the commands that call Pagecall
			n++
			if c.Flags().Lookup("redis") == nil {
				t.Errorf("%q calls the API but has no --redis", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n < 10 {
		t.Fatalf("only %d commands take an API key: the walk is broken", n)
	}
}

func TestRedisBadURLIsUsageErrorWithoutURL(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	r := runTree(t, srv, treeIn{}, "rooms", "terminate", seededRoom, "--redis", "ftp://:hunter2@example.com/")
	if r.code != exitUsage {
		t.Fatalf("exit %d, want %d", r.code, exitUsage)
	}
	if strings.Contains(r.stderr, "hunter2") {
		t.Fatalf("the error repeats the URL's password: %s", r.stderr)
	}
	if len(srv.Requests()) != 0 {
		t.Fatal("a request was sent")
	}
}

func TestRedisUnreachableWarnsAndCalls(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	r := runTree(t, srv, treeIn{}, "rooms", "terminate", seededRoom, "--redis", "redis://:hunter2@127.0.0.1:1/0")
	if r.code != exitOK {
		t.Fatalf("exit %d with Redis unreachable, want the call to go on", r.code)
	}
	if !strings.Contains(r.stderr, "warning: Redis at 127.0.0.1:1 is unreachable") || strings.Contains(r.stderr, "hunter2") {
		t.Fatalf("stderr = %q, want one warning naming the address, not the password", r.stderr)
	}
	if len(srv.Requests()) != 1 {
		t.Fatalf("%d requests, want 1", len(srv.Requests()))
	}
}

func TestRedisURLFromEnvironment(t *testing.T) {
	f := fleetFlags{}
	e := &env{Getenv: func(k string) string {
		if k == envRedisURL {
			return "redis://127.0.0.1:6390/2"
		}
		return ""
	}}
	rdb, err := f.redisClient(e)
	if err != nil || rdb == nil {
		t.Fatalf("redisClient = %v, %v", rdb, err)
	}
	defer rdb.Close()
	if o := rdb.Options(); o.Addr != "127.0.0.1:6390" || o.DB != 2 || !o.ContextTimeoutEnabled || o.ReadTimeout != redisOpTimeout {
		t.Fatalf("options = %+v, want the URL's, bounded", o)
	}
	f.url = "redis://127.0.0.1:6391"
	rdb2, _ := f.redisClient(e)
	defer rdb2.Close()
	if rdb2.Options().Addr != "127.0.0.1:6391" {
		t.Fatal("--redis does not win over the environment")
	}
	if rdb, err := (&fleetFlags{}).redisClient(&env{}); rdb != nil || err != nil {
		t.Fatal("no --redis and no variable: want no client")
	}
}
