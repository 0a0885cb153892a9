package pagecall

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// This file holds what every generated method in operations.gen.go shares,
// so that gen/templates/methods.tmpl decides only names, types and shapes.

// DefaultPageSize is the page size of the XxxSeq iterators when the
// parameters give no limit.
const DefaultPageSize = 100

// operation describes one operation of the spec for the request loop. The
// generated methods declare one per operation and never change it.
type operation struct {
	id     string // the spec's operationId, e.g. "DeleteUser"
	method string // e.g. "DELETE"
	path   string // the spec's path template, e.g. "/users/{user_id}"
	// idempotent marks a POST or PATCH that Pagecall documents as safe to
	// replay (x-pagecall-idempotent in api/overlay.yaml): it is retried as
	// a PUT is.
	idempotent bool
}

// requestIsIdempotent reports whether req may be replayed after an
// ambiguous failure: its method is idempotent, or the call was marked so
// (by the generated method of an operation api/overlay.yaml marks, or by
// WithIdempotent).
func requestIsIdempotent(req *http.Request) bool {
	return IsIdempotent(req.Method) || callFrom(req.Context()).idempotent()
}

// begin applies the call's options, checks the path parameters (given in
// path order) and bounds the call by its timeout, before the generated
// client builds the request: so the request is built once, with its final
// context, and a refused option or parameter sends nothing. The *call is
// nil when the call needs no state of its own (see newCall); cancel is nil
// when no timeout was added.
func (c *Client) begin(ctx context.Context, op *operation, opts []CallOption, pathValues ...string) (context.Context, *call, context.CancelFunc, error) {
	cl, err := newCall(ctx, op, opts, c.loop.now(), c.loop.hooks)
	if err == nil {
		err = op.checkPath(pathValues)
	}
	if err != nil {
		cl.record(nil, 0)
		return ctx, nil, nil, err
	}
	if cl != nil {
		ctx = cl.started()
	}
	ctx, cancel := c.loop.withTimeout(ctx)
	return ctx, cl, cancel, nil
}

// checkPath validates each path parameter against its name in op.path.
func (op *operation) checkPath(values []string) error {
	rest := op.path
	for _, v := range values {
		before, name, after, ok := nextParam(rest)
		if !ok {
			break
		}
		// A user's ID is the parameter named user_id, or whatever follows
		// "users/" (the 2023 documents call it id).
		user := name == "user_id" || strings.HasSuffix(before, "users/")
		if err := validatePathParam(name, v, user); err != nil {
			return err
		}
		rest = after
	}
	return nil
}

// nextParam splits a path template around its first {parameter}.
func nextParam(path string) (before, name, after string, ok bool) {
	before, rest, ok := strings.Cut(path, "{")
	if !ok {
		return path, "", "", false
	}
	name, after, ok = strings.Cut(rest, "}")
	return before, name, after, ok
}

// expand returns the escaped path of op with values in place of its
// parameters, below basePath ("/v1/").
func (op *operation) expand(basePath string, values []string) string {
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(basePath, "/"))
	rest := op.path
	for _, v := range values {
		before, _, after, ok := nextParam(rest)
		if !ok {
			break
		}
		b.WriteString(before)
		b.WriteString(url.PathEscape(v))
		rest = after
	}
	b.WriteString(rest)
	return b.String()
}

// named fills in the request of a *RequestError that the generated parser
// returned without one (it failed on a 2xx body), so that the error says
// which call failed, with the path escaped as it was sent.
func (c *Client) named(op *operation, err error, pathValues ...string) error {
	var reqErr *RequestError
	if errors.As(err, &reqErr) && reqErr.Method == "" {
		reqErr.Method, reqErr.Path = op.method, op.expand(c.loop.basePath, pathValues)
	}
	return err
}

// malformed is the error for a 2xx answer without the JSON body the spec
// promises.
func malformed(op *operation, resp *http.Response) error {
	status, ct := 0, ""
	if resp != nil {
		status, ct = resp.StatusCode, resp.Header.Get("Content-Type")
	}
	return &RequestError{
		Method: op.method, Path: requestPath(resp),
		Err: fmt.Errorf("%w: %d answer with content type %q, want JSON", ErrMalformedResponse, status, ct),
	}
}

// validatePathParam refuses the values that cannot be sent as one path
// segment: "", "." and ".." (a URL resolver would drop or climb them, so
// DELETE /v1/users/.. would become DELETE /v1/). Every other string is
// valid, and is percent-encoded when sent.
func validatePathParam(name, value string, user bool) error {
	switch value {
	case "":
		return &PathParamError{Param: name, Reason: "empty", user: user}
	case ".", "..":
		return &PathParamError{Param: name, Reason: fmt.Sprintf("%q is a dot segment", value), user: user}
	}
	return nil
}

// ValidateUserID returns an error satisfying errors.Is(err,
// ErrInvalidUserID) for the user IDs that cannot be sent as one path
// segment: "", "." and "..". Every other string is valid and is
// percent-encoded when sent.
func ValidateUserID(id string) error { return validatePathParam("user_id", id, true) }

// pager walks offset and limit through the pages of a list.
type pager struct{ offset, limit int }

// newPager starts at the caller's offset (default 0) with the caller's limit
// (default DefaultPageSize).
func newPager[T ~int | ~int32 | ~int64](offset, limit *T) pager {
	p := pager{limit: DefaultPageSize}
	if offset != nil && *offset > 0 {
		p.offset = int(*offset)
	}
	if limit != nil && *limit > 0 {
		p.limit = int(*limit)
	}
	return p
}

// next moves past a page of n items and reports whether another page may
// follow: not after an empty or short page, nor past total (-1: unknown).
func (p *pager) next(n, total int) bool {
	if n == 0 || n < p.limit {
		return false
	}
	p.offset += n
	return total < 0 || p.offset < total
}

// Ptr returns a pointer to v, for the optional fields and parameters whose
// zero value means something (record: false, offset: 0):
//
//	pagecall.CreateRoomRequest{Name: "standup", Type: pagecall.RoomTypePrivate, Record: pagecall.Ptr(false)}
func Ptr[T any](v T) *T { return &v }
