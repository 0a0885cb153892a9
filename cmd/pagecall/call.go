package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pplink/pagecall-go"
	"github.com/spf13/pflag"
)

// run is an operation command: build the request, check it against the
// spec, call the SDK's method for the operation, print the answer.
func (oc *opCommand) run(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
	o := oc.op
	if err := checkFormat(oc.format); err != nil {
		return withCode(exitUsage, err)
	}
	r, err := oc.request(e, fs, args)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if err := oc.validate(ctx, r); err != nil {
		return withCode(exitUsage, err)
	}
	raw, err := oc.raw.options(o.body != nil)
	if err != nil {
		return withCode(exitUsage, err)
	}
	in := &cliInput{path: r.path, body: r.body, opts: raw}
	if len(r.query) > 0 {
		var err error
		if in.query, err = json.Marshal(r.query); err != nil {
			return withCode(exitUsage, err)
		}
	}
	calls, err := o.bind(in)
	if err != nil {
		return withCode(exitUsage, err)
	}
	return callSDK(ctx, e, &oc.client, func(ctx context.Context, c *pagecall.Client, stop <-chan struct{}) error {
		p := newPrinter(e.Stdout, oc.format, e.StdoutIsTerminal, o)
		var err error
		if oc.all {
			err = streamAll(calls.seq(ctx, c), p, stop)
		} else {
			var a cliAnswer
			a, err = calls.call(ctx, c)
			if err == nil {
				err = printAnswer(a, p, e.Stderr, o)
			}
		}
		var ppe *pagecall.PathParamError
		if errors.As(err, &ppe) {
			err = &argError{arg: argName(ppe.Param, o.resource), err: ppe}
		}
		return err
	})
}

// argError is a path parameter the SDK refused, named as the usage line
// names it (MEMBER_ID).
type argError struct {
	arg string
	err *pagecall.PathParamError
}

// Error names the argument, the parameter and what is wrong.
func (e *argError) Error() string {
	return fmt.Sprintf("%s: invalid %s: %s (nothing was sent)", e.arg, e.err.Param, e.err.Reason)
}

// Unwrap returns the SDK's error, which matches pagecall.ErrInvalidPathParam.
func (e *argError) Unwrap() error { return e.err }

// printAnswer prints what a method returned: a list's items (and its
// paging on stderr), or the one resource.
func printAnswer(a cliAnswer, p *printer, stderr io.Writer, o *apiOp) error {
	if !a.list {
		if a.one == nil {
			return nil // the answer has no body
		}
		return p.one(a.one)
	}
	for _, item := range a.items {
		if err := p.item(item); err != nil {
			return err
		}
	}
	if err := p.end(); err != nil {
		return err
	}
	if a.paging != nil {
		printPaging(stderr, a.paging, len(a.items), o)
	}
	return nil
}

// streamAll prints every item an iterator yields as it yields it, holding
// none: the iterator fetches a page only when the items of the one before
// are printed. It stops early, without error, once stop is closed.
func streamAll(seq cliSeq, p *printer, stop <-chan struct{}) error {
	for item, err := range seq {
		if err != nil {
			_ = p.end()
			return err
		}
		if err := p.item(item); err != nil {
			return err
		}
		if isClosed(stop) {
			break
		}
	}
	return p.end()
}

// printPaging writes one page's paging to stderr, and how to get the rest.
func printPaging(w io.Writer, paging any, n int, o *apiOp) {
	b, err := json.Marshal(paging)
	if err != nil {
		return
	}
	var pg struct{ Offset, Total *int64 }
	_ = json.Unmarshal(b, &pg)
	hint := ""
	// Only an operation with an offset can fetch more (its iterator pages
	// through offset and limit).
	if pg.Offset != nil && pg.Total != nil && *pg.Offset+int64(n) < *pg.Total && o.hasQuery("offset") {
		hint = fmt.Sprintf(" (more: --offset %d, or --all for every page)", *pg.Offset+int64(n))
	}
	fmt.Fprintf(w, "paging: %s%s\n", b, hint)
}

// hasQuery reports whether the operation has the query parameter name.
func (o *apiOp) hasQuery(name string) bool {
	for _, p := range o.queryParams {
		if p.Name == name {
			return true
		}
	}
	return false
}
