// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package pagecall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// hookLog records what hooks heard, one line an event, and the events.
type hookLog struct {
	mu     sync.Mutex
	lines  []string
	events []any
	ctxOK  []bool // each event after CallStart saw CallStart's context
}

type hookCtxKey struct{}

// hooks returns Hooks that record into l; the context CallStart returns
// carries a value the later events check for.
func (l *hookLog) hooks(values bool) Hooks {
	add := func(ctx context.Context, line string, e any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, line)
		l.events = append(l.events, e)
		l.ctxOK = append(l.ctxOK, ctx.Value(hookCtxKey{}) == "span")
	}
	return Hooks{
		PathValues: values,
		CallStart: func(ctx context.Context, c CallInfo) context.Context {
			add(context.WithValue(ctx, hookCtxKey{}, "span"), fmt.Sprintf("start %s %s %s", c.OperationID, c.Method, c.PathTemplate), c)
			return context.WithValue(ctx, hookCtxKey{}, "span")
		},
		AttemptStart: func(ctx context.Context, a AttemptStart) {
			add(ctx, fmt.Sprintf("attempt %d", a.Attempt), a)
		},
		AttemptEnd: func(ctx context.Context, a AttemptEnd) {
			add(ctx, fmt.Sprintf("attempt %d: %d %q retry=%v cause=%s refused=%v", a.Attempt, a.StatusCode, a.ErrorType, a.Retry, a.WaitCause, a.BudgetRefused), a)
		},
		Pause: func(ctx context.Context, p PauseWait) {
			add(ctx, fmt.Sprintf("pause attempt %d: %d deadlineFirst=%v", p.Attempt, p.StatusCode, p.DeadlineFirst), p)
		},
		CallEnd: func(ctx context.Context, c CallEnd) {
			add(ctx, fmt.Sprintf("end %d after %d attempts %q", c.StatusCode, c.Attempts, c.ErrorType), c)
		},
	}
}

func (l *hookLog) snapshot() ([]string, []any, []bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines), slices.Clone(l.events), slices.Clone(l.ctxOK)
}

// TestHooksSequence: the hooks hear a call's start, each attempt with what
// follows it (the wait's cause), and its end, in order, in the context
// CallStart returned.
func TestHooksSequence(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   []string
	}{
		{"backoff", nil, []string{
			"start GetUser GET /users/{user_id}",
			"attempt 1", `attempt 1: 503 "503" retry=true cause=backoff refused=false`,
			"attempt 2", `attempt 2: 200 "" retry=false cause= refused=false`,
			`end 200 after 2 attempts ""`,
		}},
		{"retry-after", map[string]string{"Retry-After": "0"}, []string{
			"start GetUser GET /users/{user_id}",
			"attempt 1", `attempt 1: 503 "503" retry=true cause=retry_after refused=false`,
			"attempt 2", `attempt 2: 200 "" retry=false cause= refused=false`,
			`end 200 after 2 attempts ""`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, _ := relServer(t, relFailThenOK(1, http.StatusServiceUnavailable, tt.header, `{"message":"busy"}`))
			var log hookLog
			c := relClient(t, base, WithHooks(log.hooks(false)))
			if _, err := c.GetUser(context.Background(), "u1"); err != nil {
				t.Fatal(err)
			}
			lines, _, ctxOK := log.snapshot()
			if !slices.Equal(lines, tt.want) {
				t.Errorf("hooks heard\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
			for i, ok := range ctxOK {
				if !ok {
					t.Errorf("event %d (%s) did not get CallStart's context", i, lines[i])
				}
			}
		})
	}
}

// TestHooksPathValues: without PathValues nothing the hooks receive holds
// the user ID (nor the key); with it, AttemptStart.Path and the Err fields
// do.
func TestHooksPathValues(t *testing.T) {
	const id = "ann.lee@example.com"
	for _, values := range []bool{false, true} {
		t.Run(fmt.Sprint("values=", values), func(t *testing.T) {
			base, _ := relServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNotFound)
				io.WriteString(w, `{"message":"user `+id+` not found"}`)
			})
			var log hookLog
			c := relClient(t, base, WithHooks(log.hooks(values)))
			if _, err := c.GetUser(context.Background(), id); err == nil {
				t.Fatal("want a 404")
			}
			_, events, _ := log.snapshot()
			var sawPath, sawErr bool
			for _, e := range events {
				dump := fmt.Sprintf("%+v", e)
				if strings.Contains(dump, relKey) {
					t.Errorf("an event carries the key: %s", dump)
				}
				leaks := strings.Contains(dump, id) || strings.Contains(dump, url.PathEscape(id))
				if !values && leaks {
					t.Errorf("an event carries the user ID without PathValues: %s", dump)
				}
				switch e := e.(type) {
				case AttemptStart:
					sawPath = sawPath || strings.Contains(e.Path, url.PathEscape(id))
				case AttemptEnd:
					sawErr = sawErr || e.Err != nil
				case CallEnd:
					sawErr = sawErr || e.Err != nil
				}
			}
			if sawPath != values || sawErr != values {
				t.Errorf("path given %v, error given %v; want both %v", sawPath, sawErr, values)
			}
		})
	}
}

// TestAttemptHeader: a hook sets headers on each attempt through
// AttemptHeader, but cannot read or replace those the client owns.
func TestAttemptHeader(t *testing.T) {
	got := make(chan http.Header, 4)
	base, _ := relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		relWriteUser(w, "u1")
	})
	var seenAuth, seenKeys []string
	c := relClient(t, base, WithHooks(Hooks{AttemptStart: func(_ context.Context, a AttemptStart) {
		a.Header.Set("Authorization", "Bearer stolen")
		a.Header.Set("User-Agent", "evil")
		a.Header.Set("Traceparent", fmt.Sprintf("attempt-%d", a.Attempt))
		a.Header.Set("X-Bad", "line\nbreak")
		seenAuth = append(seenAuth, a.Header.Get("authorization"))
		seenKeys = append(seenKeys, a.Header.Keys()...)
	}}))
	if _, err := c.GetUser(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 2; n++ {
		h := <-got
		if h.Get("Authorization") != "Bearer "+relKey || strings.Contains(h.Get("User-Agent"), "evil") || h.Get("X-Bad") != "" {
			t.Errorf("attempt %d: a hook changed a header the client owns or sent an invalid one: %v", n, h)
		}
		if tp := h.Get("Traceparent"); tp != fmt.Sprintf("attempt-%d", n) {
			t.Errorf("attempt %d: traceparent %q", n, tp)
		}
	}
	for _, a := range seenAuth {
		if a != "" {
			t.Errorf("AttemptHeader.Get(Authorization) = %q, want \"\"", a)
		}
	}
	for _, k := range seenKeys {
		if reservedHeader(k) {
			t.Errorf("AttemptHeader.Keys lists %s", k)
		}
	}
}

// TestHooksSeeClientDoAsUnknownOperationInChain: a request through
// Client.Do is observed as a call of an unknown operation, and two
// WithHooks are both called, in order.
func TestHooksSeeClientDoAsUnknownOperationInChain(t *testing.T) {
	base, _ := relServer(t, relFailThenOK(0, 0, nil, ""))
	var first, second hookLog
	c := relClient(t, base, WithHooks(first.hooks(false)), WithHooks(second.hooks(false)))
	if err := c.Do(context.Background(), http.MethodGet, "/users/u1", nil, nil); err != nil {
		t.Fatalf("GET /users/u1 through Do: %v", err)
	}
	want := []string{"start  GET ", "attempt 1", `attempt 1: 200 "" retry=false cause= refused=false`, `end 200 after 1 attempts ""`}
	for i, l := range []*hookLog{&first, &second} {
		if lines, _, _ := l.snapshot(); !slices.Equal(lines, want) {
			t.Errorf("hooks %d heard %q, want %q", i+1, lines, want)
		}
	}
}

// TestHooksBudgetRefused: the retry the budget refuses is reported on the
// attempt that failed.
func TestHooksBudgetRefused(t *testing.T) {
	base, _ := relServer(t, func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	var log hookLog
	c := relClient(t, base, WithHooks(log.hooks(false)))
	ctx := context.Background()
	for c.RetryBudget() >= budgetRetryCost {
		_, _ = c.GetUser(ctx, "u1", WithCallMaxRetries(0))
	}
	log = hookLog{}
	_, _ = c.GetUser(ctx, "u1")
	lines, _, _ := log.snapshot()
	want := `attempt 1: 503 "503" retry=false cause= refused=true`
	if !slices.Contains(lines, want) || lines[len(lines)-1] != `end 503 after 1 attempts "503"` {
		t.Errorf("hooks heard %q, want %q and the end", lines, want)
	}
}

// TestErrorType: errors are classified in few values that name nothing of
// the request.
func TestErrorType(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&APIError{StatusCode: 429, Path: "/v1/users/a@b"}, "429"},
		{&RequestError{Path: "/v1/users/a@b", Err: context.DeadlineExceeded}, "timeout"},
		{&RequestError{Err: context.Canceled}, "canceled"},
		{&RequestError{Err: fmt.Errorf("read: %w", syscall.ECONNRESET)}, "connection_reset"},
		{&RequestError{Err: io.ErrUnexpectedEOF}, "connection_closed"},
		{&RequestError{Err: fmt.Errorf("%w: 10 MiB", ErrResponseTooLarge)}, "response_too_large"},
		{&PathParamError{Param: "user_id", Reason: "empty"}, "invalid_path_param"},
		{errors.New("something else"), "_OTHER"},
	}
	for _, tt := range tests {
		if got := ErrorType(tt.err); got != tt.want {
			t.Errorf("ErrorType(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestHooksPathValuesPerHook: PathValues is each hook's own. Of two hooks,
// the one without it never sees path values, whichever is registered
// first, and the one with it keeps them, whichever is registered last.
func TestHooksPathValuesPerHook(t *testing.T) {
	const id = "ann.lee@example.com"
	type seen struct{ path, attemptErr, callErr int }
	hook := func(values bool, s *seen) Hooks {
		return Hooks{
			PathValues:   values,
			AttemptStart: func(_ context.Context, a AttemptStart) { s.path += len(a.Path) },
			AttemptEnd: func(_ context.Context, a AttemptEnd) {
				if a.Err != nil {
					s.attemptErr++
				}
			},
			CallEnd: func(_ context.Context, e CallEnd) {
				if e.Err != nil {
					s.callErr++
				}
			},
		}
	}
	for _, withFirst := range []bool{true, false} {
		base, _ := relServer(t, func(n int64, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"user `+id+` not found"}`)
		})
		var with, without seen
		hooks := []Option{WithHooks(hook(true, &with)), WithHooks(hook(false, &without))}
		if !withFirst {
			hooks[0], hooks[1] = hooks[1], hooks[0]
		}
		c := relClient(t, base, hooks...)
		if _, err := c.GetUser(context.Background(), id); err == nil {
			t.Fatal("want a 404")
		}
		if without != (seen{}) {
			t.Errorf("with-hook first %v: the hook without PathValues saw %+v, want nothing", withFirst, without)
		}
		if with.path == 0 || with.attemptErr != 2 || with.callErr != 1 {
			t.Errorf("with-hook first %v: the hook with PathValues saw %+v, want paths and every error", withFirst, with)
		}
	}
}
