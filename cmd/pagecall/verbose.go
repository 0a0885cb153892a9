package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pplink/pagecall-go"
)

// verboseHooks prints one line on w for each attempt of every call, from
// the SDK's call hooks (pagecall.WithHooks): the request, its status (or
// the kind of failure) and how long it took, then what follows: a retry
// after a wait and its cause, a retry the budget refused, or the end. A
// wait for the client-wide pause is told on the line of the attempt it
// held. The CLI runs on its user's own terminal and bulk deletes run
// concurrently, so the lines name the request's path, user IDs included
// (PathValues); the API key never reaches the hooks.
func verboseHooks(w io.Writer) pagecall.Hooks {
	return pagecall.Hooks{
		PathValues: true,
		CallStart: func(ctx context.Context, _ pagecall.CallInfo) context.Context {
			return context.WithValue(ctx, verboseKey{}, &verboseCall{})
		},
		AttemptStart: func(ctx context.Context, a pagecall.AttemptStart) {
			if vc := verboseFrom(ctx); vc != nil {
				vc.path = a.Path
			}
		},
		Pause: func(ctx context.Context, p pagecall.PauseWait) {
			if vc := verboseFrom(ctx); vc != nil {
				vc.paused += p.Wait
				vc.pauseStatus = p.StatusCode
			}
		},
		AttemptEnd: func(ctx context.Context, a pagecall.AttemptEnd) {
			vc := verboseFrom(ctx)
			if vc == nil {
				return
			}
			fmt.Fprintln(w, vc.line(a))
			vc.paused, vc.pauseStatus = 0, 0
		},
	}
}

// verboseKey is the context key of a call's verboseCall.
type verboseKey struct{}

// verboseCall is what the lines of one call need from its earlier events.
type verboseCall struct {
	path        string
	paused      time.Duration // the client-wide pause held this attempt
	pauseStatus int
}

func verboseFrom(ctx context.Context) *verboseCall {
	vc, _ := ctx.Value(verboseKey{}).(*verboseCall)
	return vc
}

// line describes attempt a, e.g.
//
//	pagecall: DELETE /v1/users/u1 attempt 1: 503 Service Unavailable in 2.1ms; retry in 1s (retry_after)
func (vc *verboseCall) line(a pagecall.AttemptEnd) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pagecall: %s %s attempt %d: ", a.Call.Method, vc.path, a.Attempt)
	if a.StatusCode != 0 {
		fmt.Fprintf(&b, "%d %s", a.StatusCode, http.StatusText(a.StatusCode))
	} else {
		fmt.Fprintf(&b, "failed (%s)", failureOf(a))
	}
	fmt.Fprintf(&b, " in %s", a.Duration.Round(10*time.Microsecond))
	if vc.paused > 0 {
		fmt.Fprintf(&b, ", after %s held by the client-wide pause (%d)", vc.paused.Round(time.Millisecond), vc.pauseStatus)
	}
	switch {
	case a.Retry:
		fmt.Fprintf(&b, "; retry in %s (%s)", a.Wait.Round(time.Millisecond), a.WaitCause)
	case a.BudgetRefused:
		b.WriteString("; not retried: the retry budget is exhausted")
	}
	return b.String()
}

// failureOf names a failure without an answer: its kind and its cause.
func failureOf(a pagecall.AttemptEnd) string {
	var re *pagecall.RequestError
	if errors.As(a.Err, &re) && re.Err != nil {
		return a.ErrorType + ": " + re.Err.Error()
	}
	return a.ErrorType
}
