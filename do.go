package pagecall

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Do sends one request to an endpoint the spec lacks, through the same
// request loop as every generated method: the key, retries by method (and
// WithIdempotent), the retry budget, the client-wide pause, the rate limit,
// *APIError for an answer outside 2xx, the size cap and ResponseInfo.
//
// path is relative to the base URL ("/rooms/x/actions", sent as
// /v1/rooms/x/actions), with an optional query whose values are escaped
// (url.Values.Encode). A path with a scheme or a host, a dot segment
// (plain or percent-encoded), a backslash, a fragment, or a query that
// holds a "/" (a second path smuggled past the first) is refused with
// ErrOutsideBaseURL before anything is sent.
//
// body nil sends no body; any other value is sent as JSON (a []byte or
// json.RawMessage as it is). out nil discards the answer; otherwise the 2xx
// answer's JSON is decoded into it as the generated methods decode theirs:
// a field that does not fit is drift (see WithStrictResponses).
func (c *Client) Do(ctx context.Context, method, path string, body, out any, opts ...CallOption) error {
	// The spec has no template for this path, and the path holds values
	// that must not reach hooks: the operation names the method only (the
	// drift log names the path, see reportDrift).
	op := &operation{method: method, raw: true}
	return c.loop.call(ctx, op, opts, nil, func(ctx context.Context, _ string) (*http.Request, error) {
		return c.rawRequest(ctx, method, path, body, out)
	}, out)
}

// rawRequest checks the method and path of a Do call and builds its request.
func (c *Client) rawRequest(ctx context.Context, method, path string, body, out any) (*http.Request, error) {
	fail := func(sentinel error, format string, args ...any) error {
		return &RequestError{Method: method, Path: path, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
	}
	if out != nil {
		if v := reflect.ValueOf(out); v.Kind() != reflect.Pointer || v.IsNil() {
			return nil, &RequestError{Method: method, Path: path, Err: fmt.Errorf("pagecall: Do needs a non-nil pointer to decode into, not %T", out)}
		}
	}
	if method == "" || !httpguts.ValidHeaderFieldName(method) {
		return nil, fail(ErrInvalidHeader, "%q is not an HTTP method", method)
	}
	if err := checkRawPath(path); err != nil {
		return nil, fail(ErrOutsideBaseURL, "%v", err)
	}
	var data []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		data = b
	case json.RawMessage:
		data = b
	default:
		var err error
		if data, err = json.Marshal(body); err != nil {
			return nil, &RequestError{Method: method, Path: path, Err: fmt.Errorf("encoding the body: %w", err)}
		}
	}
	target := strings.TrimSuffix(c.loop.base.String(), "/") + path
	var req *http.Request
	var err error
	if body == nil {
		req, err = http.NewRequestWithContext(ctx, method, target, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, target, bytes.NewReader(data))
	}
	if err != nil {
		return nil, fail(ErrOutsideBaseURL, "%v", unwrapURLError(err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// checkRawPath refuses what could take a Do call outside the base URL.
func checkRawPath(path string) error {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return fmt.Errorf("path %q must start with one /, relative to the base URL", path)
	}
	if strings.ContainsAny(path, "\\#") {
		return fmt.Errorf("path %q has a backslash or a fragment", path)
	}
	p, query, _ := strings.Cut(path, "?")
	if strings.Contains(query, "/") {
		return fmt.Errorf("the query of %q holds a path; escape its values", path)
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fmt.Errorf("path %q is not a plain path", path)
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("path %q has a dot segment", path)
		}
	}
	return nil
}
