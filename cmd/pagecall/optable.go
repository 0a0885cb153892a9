package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/pplink/pagecall-go"
)

// cliOperation is one entry of cliOperations (operations.gen.go, written by
// go generate from gen/cli.yaml and gen/templates/cli.tmpl): an operation
// of the spec and its typed caller, whose SDK method names and types the
// compiler checks.
type cliOperation struct {
	operationID, method, path string
	// hasSeq: the operation is a list with an iterator (--all).
	hasSeq bool
	// bind decodes a command's input into the SDK's types for the
	// operation and returns the calls that send it. Its errors are usage
	// errors: nothing was sent.
	bind func(in *cliInput) (*cliCalls, error)
}

// cliInput is what an operation command sends, as JSON: the path
// parameters in path order, the query parameters as an object, the body.
type cliInput struct {
	path  []string
	query []byte                // a JSON object; nil for none
	body  []byte                // nil if the operation takes none
	opts  []pagecall.CallOption // --set, --query (rawflags.go)
}

// cliSeq is a list's items as an iterator yields them.
type cliSeq = iter.Seq2[any, error]

// cliCalls are an operation's calls with the input bound.
type cliCalls struct {
	// call calls the operation once.
	call func(ctx context.Context, c *pagecall.Client) (cliAnswer, error)
	// seq iterates over every item of a list; nil unless hasSeq.
	seq func(ctx context.Context, c *pagecall.Client) cliSeq
}

// cliAnswer is what a method returned: nothing, one value, or a list's
// items (and its paging, nil if the answer has none).
type cliAnswer struct {
	list   bool
	one    any // the value; nil for a list or no answer body
	items  []any
	paging any
}

// errNotJSONBody refuses an operation whose body the CLI cannot build.
// operations.gen.go uses it only for a spec with such an operation.
//
//lint:ignore U1000 used by generated code when the spec has a non-JSON body
var errNotJSONBody = errors.New("the operation takes a body that is not JSON, which the CLI cannot send")

// wantPath checks that there is one path value per path parameter.
func (in *cliInput) wantPath(n int) error {
	if len(in.path) != n {
		return fmt.Errorf("the operation takes %d path parameters, the command has %d", n, len(in.path))
	}
	return nil
}

// decodeQuery decodes the query parameters into the SDK's params type. A
// parameter the type lacks is refused: it could not be sent.
func (in *cliInput) decodeQuery(params any) error {
	q := in.query
	if q == nil {
		q = []byte("{}")
	}
	if err := decodeStrict(q, params); err != nil {
		return fmt.Errorf("query parameters: %w", err)
	}
	return nil
}

// decodeBody decodes the body into the SDK's body type. A field the type
// lacks is refused: it could not be sent.
func (in *cliInput) decodeBody(body any) error {
	if err := decodeStrict(in.body, body); err != nil {
		return fmt.Errorf("request body: %w (the SDK's %s has no place for it; nothing was sent)", err,
			strings.TrimPrefix(fmt.Sprintf("%T", body), "*"))
	}
	return nil
}

// decodeStrict decodes JSON into v, refusing fields v has no place for.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// oneAnswer is the answer of a method that returns one value.
func oneAnswer[T any](v T) cliAnswer { return cliAnswer{one: v} }

// listAnswer is the answer of a list without paging.
func listAnswer[T any](items []T) cliAnswer {
	a := cliAnswer{list: true, items: make([]any, len(items))}
	for i, item := range items {
		a.items[i] = item
	}
	return a
}

// pagedAnswer is the answer of a list with its paging.
func pagedAnswer[T, P any](items []T, paging *P) cliAnswer {
	a := listAnswer(items)
	if paging != nil {
		a.paging = paging
	}
	return a
}

// anySeq yields what seq yields, each item as an any.
func anySeq[T any](seq iter.Seq2[T, error]) cliSeq {
	return func(yield func(any, error) bool) {
		for item, err := range seq {
			if !yield(item, err) {
				return
			}
		}
	}
}
