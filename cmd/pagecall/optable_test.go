// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package main

import (
	"strings"
	"testing"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// tableEntry returns the generated table's entry for an operation.
func tableEntry(t *testing.T, id string) cliOperation {
	t.Helper()
	for _, op := range cliOperations {
		if op.operationID == id {
			return op
		}
	}
	t.Fatalf("no %s in the table", id)
	return cliOperation{}
}

// TestBindRefusesWhatTheSDKCannotSend: a typed caller refuses, before any
// call, a body field or query parameter its SDK type has no place for, and
// a wrong number of path values; what fits is bound.
func TestBindRefusesWhatTheSDKCannotSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op   string
		in   cliInput
		want string // "" for bound
	}{
		{"CreateUser", cliInput{body: []byte(`{"user_id":"a"}`)}, ""},
		{"CreateUser", cliInput{body: []byte(`{"user_id":"a","shoe_size":42}`)}, "request body: json: unknown field \"shoe_size\" (the SDK's "},
		{"ListUsers", cliInput{query: []byte(`{"email_search_query":"a@b"}`)}, ""},
		{"ListUsers", cliInput{query: []byte(`{"colour":"red"}`)}, "query parameters: json: unknown field \"colour\""},
		{"GetMember", cliInput{path: []string{"room"}}, "takes 2 path parameters, the command has 1"},
		{"GetMember", cliInput{path: []string{"room", "member", "extra"}}, "takes 2 path parameters, the command has 3"},
		{"GetMember", cliInput{path: []string{"room", "member"}}, ""},
	}
	for _, tt := range tests {
		calls, err := tableEntry(t, tt.op).bind(&tt.in)
		switch {
		case tt.want == "" && (err != nil || calls == nil || calls.call == nil):
			t.Errorf("%s %+v: %v, want bound", tt.op, tt.in, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s %+v: %v, want an error with %q", tt.op, tt.in, err, tt.want)
		}
	}
}

// TestAnswerShapes: a list keeps every item in order, its paging only
// when the answer had one; one value is kept as it is.
func TestAnswerShapes(t *testing.T) {
	t.Parallel()
	type paging struct{ Total int }
	a := pagedAnswer([]string{"x", "y"}, (*paging)(nil))
	if !a.list || len(a.items) != 2 || a.items[1] != "y" || a.paging != nil {
		t.Errorf("paged without paging: %+v", a)
	}
	a = pagedAnswer([]string{"x"}, &paging{Total: 9})
	if p, _ := a.paging.(*paging); p == nil || p.Total != 9 {
		t.Errorf("paged: %+v", a)
	}
	if a := oneAnswer("ok"); a.list || a.one != "ok" {
		t.Errorf("one: %+v", a)
	}
}

// TestAnySeqStopsWhenTheConsumerStops: once the printer stops taking items
// (an interrupt, a write error), the SDK's iterator is asked for no more,
// so no further page is fetched.
func TestAnySeqStopsWhenTheConsumerStops(t *testing.T) {
	t.Parallel()
	pulled := 0
	seq := func(yield func(string, error) bool) {
		for _, s := range []string{"a", "b", "c"} {
			pulled++
			if !yield(s, nil) {
				return
			}
		}
	}
	var got []any
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("anySeq went on after the consumer stopped: %v", p)
			}
		}()
		for item := range anySeq(seq) {
			got = append(got, item)
			break
		}
	}()
	if len(got) != 1 || got[0] != "a" || pulled != 1 {
		t.Errorf("got %v after %d pulled, want [a] after 1", got, pulled)
	}
}

// TestAllSendsTheQueryOnEveryPage: --all hands the command's query
// parameters to the SDK's iterator, so every page is filtered alike.
func TestAllSendsTheQueryOnEveryPage(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	r := runTree(t, srv, treeIn{}, "rooms", "list", "--all", "--name", "nothing-by-this-name")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	reqs := srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request")
	}
	for _, req := range reqs {
		if !strings.Contains(req.RawQuery, "name=nothing-by-this-name") {
			t.Errorf("a page was asked for without the name: %q", req.RawQuery)
		}
	}
}
