package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

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
	fn := o.fn
	if oc.all {
		fn = o.seq
	}
	tail, err := callTail(fn, r)
	if err != nil {
		return withCode(exitUsage, err)
	}
	raw, err := oc.raw.options(o.body != nil)
	if err != nil {
		return withCode(exitUsage, err)
	}
	tail = append(tail, raw...)
	return callSDK(ctx, e, &oc.client, func(ctx context.Context, c *pagecall.Client, stop <-chan struct{}) error {
		args := append([]reflect.Value{reflect.ValueOf(c), reflect.ValueOf(ctx)}, tail...)
		p := newPrinter(e.Stdout, oc.format, e.StdoutIsTerminal, o)
		var err error
		if oc.all {
			err = streamAll(reflect.ValueOf(fn).Call(args)[0], p, stop)
		} else {
			err = callOnce(reflect.ValueOf(fn).Call(args), p, e.Stderr, o)
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

// callTail returns the arguments of fn, an SDK method expression or
// iterator, after the client and the context: the path parameters as
// strings, the body decoded into the method's body type and the query
// into its params type (as TestConformance calls every method). A field
// the SDK's type lacks is refused: it could not be sent.
func callTail(fn any, r *request) ([]reflect.Value, error) {
	ft := reflect.TypeOf(fn)
	in := ft.NumIn()
	if ft.IsVariadic() {
		in-- // the trailing ...pagecall.CallOption
	}
	var tail []reflect.Value
	for _, v := range r.path {
		tail = append(tail, reflect.ValueOf(v))
	}
	for i := 2 + len(tail); i < in; i++ {
		t := ft.In(i)
		switch {
		case t.Kind() == reflect.Pointer && strings.HasSuffix(t.Elem().Name(), "Params"):
			q, err := json.Marshal(r.query)
			if err != nil {
				return nil, err
			}
			p := reflect.New(t.Elem())
			if err := decodeStrict(q, p.Interface()); err != nil {
				return nil, fmt.Errorf("query parameters: %w", err)
			}
			tail = append(tail, p)
		case t.Kind() == reflect.Interface || t.Kind() == reflect.String:
			return nil, fmt.Errorf("the operation takes a body that is not JSON (%s), which the CLI cannot send", ft)
		default:
			p := reflect.New(t)
			if err := decodeStrict(r.body, p.Interface()); err != nil {
				return nil, fmt.Errorf("request body: %w (the SDK's %s has no place for it; nothing was sent)", err, t)
			}
			tail = append(tail, p.Elem())
		}
	}
	if len(tail)+2 != in {
		return nil, fmt.Errorf("%s takes %d arguments after the context, the command has %d", ft, in-2, len(tail))
	}
	return tail, nil
}

// decodeStrict decodes JSON into v, refusing fields v has no place for.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// callOnce prints what a method returned: a list's items (and its paging on
// stderr), or the one resource. The last result is the error.
func callOnce(results []reflect.Value, p *printer, stderr io.Writer, o *apiOp) error {
	if err, _ := results[len(results)-1].Interface().(error); err != nil {
		return err
	}
	if len(results) == 1 {
		return nil // the answer has no body
	}
	v := results[0]
	if v.Kind() != reflect.Slice {
		return p.one(v.Interface())
	}
	for i := range v.Len() {
		if err := p.item(v.Index(i).Interface()); err != nil {
			return err
		}
	}
	if err := p.end(); err != nil {
		return err
	}
	if len(results) == 3 && !results[1].IsNil() {
		printPaging(stderr, results[1].Interface(), v.Len(), o)
	}
	return nil
}

// streamAll prints every item an iterator yields as it yields it, holding
// none: the iterator fetches a page only when the items of the one before
// are printed. It stops early, without error, once stop is closed.
func streamAll(seq reflect.Value, p *printer, stop <-chan struct{}) error {
	for item, errv := range seq.Seq2() {
		if err, _ := errv.Interface().(error); err != nil {
			_ = p.end()
			return err
		}
		if err := p.item(item.Interface()); err != nil {
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
