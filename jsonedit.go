package pagecall

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// This file holds the per-call options that reach what the spec does not
// declare (WithJSONSet, WithJSONDel, WithQuery), and the step of the request
// loop that applies them to a call's request: once, before the first
// attempt, so that every attempt, retries included, sends the same edited
// request. The answer's undeclared fields are in ResponseInfo.Body.

// WithJSONSet sets the member at path of the call's JSON request body to
// value, encoded as encoding/json encodes it (a json.RawMessage as it is),
// adding the objects on the way that are missing: for a field Pagecall
// accepts before the spec declares it. path is dotted for nesting
// ("webhook.url"); a segment of digits indexes an array, and "\." is a dot
// within a name. A nil value sends JSON null, which clears a field that a
// pointer cannot express. Given twice with one path, the later value wins.
//
// The call fails with ErrInvalidEdit before anything is sent when the
// operation has no JSON body, when the path goes through a value that is
// not an object or an array (indexing into a string, say), or when value
// cannot be encoded.
func WithJSONSet(path string, value any) CallOption {
	return func(o *callOptions) {
		raw, err := json.Marshal(value)
		if err != nil {
			o.refuse(fmt.Errorf("%w: WithJSONSet(%q): %v", ErrInvalidEdit, path, err))
			return
		}
		o.addEdit(jsonEdit{path: path, raw: raw})
	}
}

// WithJSONDel removes the member at path (as for WithJSONSet) from the
// call's JSON request body: for a field the model sends that Pagecall no
// longer takes. A member that is not there is no error; a path through a
// value that is not an object or an array, or an operation without a JSON
// body, is ErrInvalidEdit, before anything is sent.
func WithJSONDel(path string) CallOption {
	return func(o *callOptions) { o.addEdit(jsonEdit{path: path, del: true}) }
}

// WithQuery sets the query parameter name to value on every attempt of the
// call, replacing one the call would send: for a parameter Pagecall accepts
// before the spec declares it. The value is escaped, so it cannot change
// the path. An empty name is ErrInvalidEdit, before anything is sent.
func WithQuery(name, value string) CallOption {
	return func(o *callOptions) {
		if name == "" {
			o.refuse(fmt.Errorf("%w: WithQuery needs a parameter name", ErrInvalidEdit))
			return
		}
		o.query = append(o.query, [2]string{name, value})
	}
}

// jsonEdit is one WithJSONSet (raw, the encoded value) or WithJSONDel.
type jsonEdit struct {
	path string
	raw  []byte
	del  bool
}

// addEdit records e, or refuses a path that sjson would not read as one.
func (o *callOptions) addEdit(e jsonEdit) {
	if err := checkEditPath(e.path); err != nil {
		o.refuse(err)
		return
	}
	o.edits = append(o.edits, e)
}

// refuse records the first option that the call cannot apply: the call
// then fails with it before anything is sent.
func (o *callOptions) refuse(err error) {
	if o.editErr == nil {
		o.editErr = err
	}
}

// checkEditPath refuses a path that names no member: empty, with an empty
// segment, or with the wildcards and modifiers that sjson and gjson read
// as queries, which sjson would silently ignore.
func checkEditPath(path string) error {
	for seg := range strings.SplitSeq(strings.ReplaceAll(path, `\.`, "_"), ".") {
		if seg == "" || strings.ContainsAny(seg, "*?#@|") {
			return fmt.Errorf("%w: %q is not a dotted path of member names and array indexes", ErrInvalidEdit, path)
		}
	}
	return nil
}

// edit applies the call's WithJSONSet, WithJSONDel and WithQuery to req,
// before its first attempt: the loop sends the result on every attempt.
// A call without them returns req as it is, at no cost.
func (c *call) edit(req *http.Request) (*http.Request, error) {
	if c == nil || len(c.opts.edits) == 0 && len(c.opts.query) == 0 {
		return req, nil
	}
	fail := func(err error) (*http.Request, error) {
		return nil, &RequestError{Method: req.Method, Path: req.URL.EscapedPath(), Err: err}
	}
	r := req.Clone(req.Context())
	if len(c.opts.query) > 0 {
		q := r.URL.Query()
		for _, p := range c.opts.query {
			q.Set(p[0], p[1])
		}
		r.URL.RawQuery = q.Encode()
	}
	if len(c.opts.edits) == 0 {
		return r, nil
	}
	body, err := jsonBody(r)
	if err != nil {
		return fail(err)
	}
	for _, e := range c.opts.edits {
		if body, err = applyEdit(body, e); err != nil {
			return fail(err)
		}
	}
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.Body, _ = r.GetBody()
	r.ContentLength = int64(len(body))
	return r, nil
}

// jsonBody reads the JSON body of req, which an edit needs: an operation
// without one is refused.
func jsonBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody || !strings.Contains(req.Header.Get("Content-Type"), "json") {
		return nil, fmt.Errorf("%w: the request has no JSON body to edit", ErrInvalidEdit)
	}
	var rc io.ReadCloser = req.Body
	if req.GetBody != nil {
		var err error
		if rc, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	b, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' && t[0] != '[' || !json.Valid(t) {
		return nil, fmt.Errorf("%w: the request body is not a JSON object or array", ErrInvalidEdit)
	}
	return b, nil
}

// applyEdit applies e to body with sjson, which edits JSON text in place:
// the other members keep their order and their exact text, where decoding
// into a map and encoding again would reorder them and round numbers. sjson
// turns a string or a number on the path into an object to go on, so the
// path is checked first: each value it goes through must be an object or
// an array.
func applyEdit(body []byte, e jsonEdit) ([]byte, error) {
	name := "WithJSONSet"
	if e.del {
		name = "WithJSONDel"
	}
	segs := splitEditPath(e.path)
	for i := 1; i < len(segs); i++ {
		v := gjson.GetBytes(body, strings.Join(segs[:i], "."))
		if v.Exists() && v.Type != gjson.Null && !v.IsObject() && !v.IsArray() {
			return nil, fmt.Errorf("%w: %s(%q): %s is %s, not an object or an array", ErrInvalidEdit, name, e.path, strings.Join(segs[:i], "."), jsonKind(v))
		}
	}
	var out []byte
	var err error
	if e.del {
		out, err = sjson.DeleteBytes(body, e.path)
	} else {
		out, err = sjson.SetRawBytes(body, e.path, e.raw)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s(%q): %v", ErrInvalidEdit, name, e.path, err)
	}
	return out, nil
}

// splitEditPath splits a dotted path into its segments, each kept in the
// path syntax ("\." stays escaped), so that joining a prefix with "." gives
// a path again.
func splitEditPath(path string) []string {
	var segs []string
	start := 0
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '\\':
			i++
		case '.':
			segs = append(segs, path[start:i])
			start = i + 1
		}
	}
	return append(segs, path[start:])
}

// jsonKind names the kind of a JSON value for an error.
func jsonKind(v gjson.Result) string {
	switch v.Type {
	case gjson.String:
		return "a string"
	case gjson.Number:
		return "a number"
	case gjson.True, gjson.False:
		return "a boolean"
	}
	return "a value"
}
