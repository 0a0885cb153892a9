package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/spf13/pflag"
)

// maxData bounds what --data reads from a file or stdin: far more than any
// request body of the API, far less than a mistaken multi-gigabyte file.
const maxData = 16 << 20

// request is what an operation command sends, built from its arguments,
// --data and flags.
type request struct {
	path  []string       // the path parameters, in path order
	query map[string]any // the query parameters given, by name
	body  []byte         // the JSON body; nil if the operation takes none
}

// request builds the request from the command line. Its errors are usage
// errors.
func (oc *opCommand) request(e *env, fs *pflag.FlagSet, args []string) (*request, error) {
	o := oc.op
	r := &request{path: args, query: changedValues(fs, oc.flags, inQuery)}
	if o.body == nil {
		return r, nil
	}
	var body any
	if fs.Changed("data") {
		raw, err := readData(e, oc.data)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			return nil, fmt.Errorf("--data is not valid JSON: %w", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.New("--data is not valid JSON: more than one value")
		}
	}
	set := changedValues(fs, oc.flags, inBody)
	if body == nil || len(set) > 0 {
		obj, isObj := body.(map[string]any)
		switch {
		case body == nil && !isObject(o.body):
			return nil, fmt.Errorf("--data is required: the request body is %s", schemaKind(o.body))
		case body == nil:
			obj = map[string]any{}
		case !isObj:
			return nil, errors.New("--data is not a JSON object, so flags cannot set its fields")
		}
		maps.Copy(obj, set)
		body = obj
	}
	var err error
	r.body, err = json.Marshal(body)
	return r, err
}

// readData returns the text of --data: the value itself, the file after
// an @, or stdin for -.
func readData(e *env, data string) ([]byte, error) {
	var src io.Reader
	name := ""
	switch {
	case data == "-":
		if e.Stdin == nil {
			return nil, errors.New("--data -: no standard input")
		}
		src, name = e.Stdin, "stdin"
	case strings.HasPrefix(data, "@"):
		f, err := os.Open(data[1:])
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		defer f.Close()
		src, name = f, data[1:]
	default:
		return []byte(data), nil
	}
	b, err := io.ReadAll(io.LimitReader(src, maxData+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("--data: read %s: %w", name, err)
	case len(b) > maxData:
		return nil, fmt.Errorf("--data: %s is larger than %d bytes", name, maxData)
	}
	return b, nil
}

// schemaKind names the type of s for messages: "an array of Page".
func schemaKind(s *openapi3.Schema) string {
	switch {
	case s.Type.Is(openapi3.TypeArray):
		return "an array"
	case s.Type != nil:
		return "of type " + strings.Join(s.Type.Slice(), "|")
	}
	return "not an object"
}

// validate checks r against the operation in the spec with kin-openapi's
// request validator, as the mock does on arrival, and returns every
// problem in one usage error naming the argument, flag or field.
func (oc *opCommand) validate(ctx context.Context, r *request) error {
	o := oc.op
	q := url.Values{}
	for name, v := range r.query {
		for _, s := range queryStrings(v) {
			q.Add(name, s)
		}
	}
	var body io.Reader = http.NoBody
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	// The request is only read by the validator, never sent: the path
	// parameters are given to it apart, so its URL holds just the query.
	req, err := http.NewRequestWithContext(ctx, o.method, "/?"+q.Encode(), body)
	if err != nil {
		return err
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	pathParams := map[string]string{}
	for i, p := range o.pathParams {
		pathParams[p.Name] = r.path[i]
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: pathParams,
		Route:      &routers.Route{Spec: o.doc, Path: o.path, PathItem: o.item, Method: o.method, Operation: o.op},
		Options: &openapi3filter.Options{
			MultiError:          true,
			SkipSettingDefaults: true,
			// The key is the SDK's business, checked when the client is made.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}
	err = openapi3filter.ValidateRequest(ctx, in)
	if err == nil {
		return nil
	}
	var problems []string
	for _, e := range flatten(err) {
		problems = append(problems, oc.describe(e))
	}
	slices.Sort(problems)
	return fmt.Errorf("invalid request for %s %s (nothing was sent): %s", o.resource, o.verb, strings.Join(slices.Compact(problems), "; "))
}

// queryStrings encodes a query value as the form style of OpenAPI does:
// an array is repeated, a scalar is its text.
func queryStrings(v any) []string {
	if list, ok := v.([]any); ok {
		var out []string
		for _, item := range list {
			out = append(out, fmt.Sprint(item))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// flatten returns the errors inside kin-openapi's multi-errors. Only err
// itself is split: errors.As would also find a multi-error that a
// RequestError wraps, and lose the RequestError.
func flatten(err error) []error {
	if me, ok := err.(openapi3.MultiError); ok {
		var out []error
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// describe turns one validation error into a message naming what the user
// typed: ROOM_ID, or a property and its flag ("type (--type)").
func (oc *opCommand) describe(err error) string {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return err.Error()
	}
	var ses []*openapi3.SchemaError
	for _, e := range flatten(re.Err) {
		var se *openapi3.SchemaError
		if errors.As(e, &se) {
			ses = append(ses, se)
		}
	}
	switch {
	case re.Parameter != nil && re.Parameter.In == openapi3.ParameterInPath:
		return argName(re.Parameter.Name, oc.op.resource) + ": " + schemaReasons(ses, re)
	case re.Parameter != nil:
		return oc.fieldName(re.Parameter.Name, inQuery) + ": " + schemaReasons(ses, re)
	case len(ses) == 0:
		return "body: " + requestReason(re)
	}
	var out []string
	for _, se := range ses {
		ptr := se.JSONPointer()
		if len(ptr) == 0 {
			out = append(out, "body: "+schemaReason(se))
			continue
		}
		name := oc.fieldName(ptr[0], inBody)
		switch {
		case se.SchemaField == "required" && len(ptr) == 1:
			out = append(out, name+" is required")
		case len(ptr) == 1:
			out = append(out, name+": "+schemaReason(se))
		default:
			out = append(out, name+" at /"+strings.Join(ptr[1:], "/")+": "+schemaReason(se))
		}
	}
	return strings.Join(out, "; ")
}

// fieldName names a query parameter or body property with its flag, if
// it has one: "max_meeting_seconds (--max-meeting-seconds)".
func (oc *opCommand) fieldName(prop, in string) string {
	for _, f := range oc.flags {
		if f.in == in && f.prop == prop {
			return prop + " (--" + f.name + ")"
		}
	}
	return prop
}

// schemaReasons describes the schema errors of one parameter.
func schemaReasons(ses []*openapi3.SchemaError, re *openapi3filter.RequestError) string {
	if len(ses) == 0 {
		return requestReason(re)
	}
	var out []string
	for _, se := range ses {
		out = append(out, schemaReason(se))
	}
	return strings.Join(out, "; ")
}

// schemaReason is a schema error's reason on one line, without the schema
// and value kin-openapi appends: an enum error lists the allowed values.
func schemaReason(se *openapi3.SchemaError) string {
	if se.SchemaField == "enum" && se.Schema != nil {
		b, _ := json.Marshal(se.Value)
		return fmt.Sprintf("%s is not one of: %s", b, strings.Join(enumValues(se.Schema), ", "))
	}
	if se.Reason != "" {
		return se.Reason
	}
	return "does not match the schema's " + se.SchemaField
}

// requestReason is the reason of a request error with no schema error.
func requestReason(re *openapi3filter.RequestError) string {
	if re.Err != nil {
		return firstLine(re.Err.Error())
	}
	return re.Reason
}
