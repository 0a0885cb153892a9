package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Kinds of drift, as a Finding's Kind names them.
const (
	KindType    = "type"    // a value of another JSON type than the schema's
	KindNull    = "null"    // null where the schema is not nullable
	KindMissing = "missing" // a required property is absent
	KindEnum    = "enum"    // a value outside the schema's enum
	KindFormat  = "format"  // a string that breaks its format (date-time)
	KindExtra   = "extra"   // a property the schema does not declare
	KindStatus  = "status"  // a status the operation does not declare
	KindBody    = "body"    // a body that is not the declared JSON at all
	KindOther   = "other"   // any other schema keyword (minimum, pattern, ...)
)

// Verdicts: how one finding reads once the answer has been checked against
// both the spec with the overlay and the published spec without it.
const (
	// VerdictDrift: the answer breaks the spec with the overlay, and the
	// published spec too (or it has nothing to say). New drift.
	VerdictDrift = "drift"
	// VerdictRefuted: the answer breaks the spec with the overlay, while
	// the published spec accepts it: the overlay's change is wrong. New
	// drift.
	VerdictRefuted = "overlay-refuted"
	// VerdictConfirmed: the published spec refuses the answer and the
	// overlay's fix accepts it: the overlay says what the API does.
	VerdictConfirmed = "overlay-confirmed"
	// VerdictUndocumented: a property no schema declares. Pagecall's
	// schemas allow extra properties and its spec says answers "may
	// contain more information", so it is reported but is not new drift.
	VerdictUndocumented = "undocumented"
)

// issue is one way an answer leaves one document.
type issue struct {
	kind    string
	pointer string // RFC 6901, array indexes written as "*"
	problem string
	// schema is the JSONPath of the schema at fault in the document, for
	// --suggest-overlay; "" where there is none.
	schema string
	// parent is the JSONPath of the schema of the object holding the
	// value (for a missing or extra property); observed is the value
	// (its JSON type decides a retype's suggestion; an enum's value is
	// suggested as it is).
	parent   string
	observed any
	// declared is the schema at fault, to describe it.
	declared *openapi3.Schema
	// allowed: an extra property that the schema does not forbid.
	allowed bool
}

// key identifies an issue across the two documents.
func (i issue) key() string { return i.kind + " " + i.pointer }

// received is one answer as it came back.
type received struct {
	status      int
	contentType string
	body        []byte
	// notJSON: the body was not JSON and was not kept (the SDK refuses a
	// 2xx whose body is not JSON unread).
	notJSON bool
}

// checkAnswer returns every way an answer to the operation method path
// leaves doc, sorted by pointer. ok is false if doc has no such operation.
//
// note, if not nil, is called with the location of the schema of every
// value the body holds (where the schema declares it) and the value.
func checkAnswer(doc *openapi3.T, method, path string, ans received, note func(loc string, v any)) (issues []issue, ok bool) {
	status, contentType, body := ans.status, ans.contentType, ans.body
	item := doc.Paths.Value(path)
	if item == nil || item.GetOperation(method) == nil {
		return nil, false
	}
	op := item.GetOperation(method)
	loc := fmt.Sprintf("$.paths[%s].%s.responses", quote(path), strings.ToLower(method))
	resp, key := responseFor(op, status)
	if resp == nil {
		return []issue{{kind: KindStatus, problem: fmt.Sprintf("status %d is not declared (declared: %s)", status,
			strings.Join(slices.Sorted(maps.Keys(op.Responses.Map())), ", ")), parent: loc, observed: status}}, true
	}
	mt := resp.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, true // no JSON body declared: nothing more to check
	}
	loc += fmt.Sprintf("[%s].content['application/json'].schema", quote(key))
	if media, _, _ := mime.ParseMediaType(contentType); (len(body) > 0 || ans.notJSON) && media != "application/json" && !strings.HasSuffix(media, "+json") {
		return []issue{{kind: KindBody, problem: fmt.Sprintf("the body is %q, not the declared JSON", orNone(media))}}, true
	}
	if ans.notJSON {
		return []issue{{kind: KindBody, problem: "the body is not valid JSON"}}, true
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []issue{{kind: KindBody, problem: "the body is not valid JSON: " + err.Error()}}, true
	}
	err := mt.Schema.Value.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse())
	for _, se := range schemaErrors(err) {
		issues = append(issues, describeSchemaError(se, v, mt.Schema, loc))
	}
	issues = append(issues, extras(mt.Schema, loc, v, "", note)...)
	slices.SortFunc(issues, func(a, b issue) int { return strings.Compare(a.pointer+a.kind, b.pointer+b.kind) })
	return slices.CompactFunc(issues, func(a, b issue) bool { return a.key() == b.key() }), true
}

// responseFor returns the response an operation declares for status: the
// exact code, then its range ("2XX"), then default.
func responseFor(op *openapi3.Operation, status int) (*openapi3.Response, string) {
	if op.Responses == nil {
		return nil, ""
	}
	for _, key := range []string{strconv.Itoa(status), fmt.Sprintf("%dXX", status/100), "default"} {
		if r := op.Responses.Value(key); r != nil && r.Value != nil {
			return r.Value, key
		}
	}
	return nil, ""
}

// schemaErrors flattens kin-openapi's multi-errors into its schema errors.
func schemaErrors(err error) []*openapi3.SchemaError {
	if err == nil {
		return nil
	}
	var out []*openapi3.SchemaError
	if me, ok := err.(openapi3.MultiError); ok {
		for _, e := range me {
			out = append(out, schemaErrors(e)...)
		}
		return out
	}
	if se, ok := errors.AsType[*openapi3.SchemaError](err); ok {
		// A oneOf or allOf wraps the errors of its branches.
		if _, multi := se.Origin.(openapi3.MultiError); multi {
			return schemaErrors(se.Origin)
		}
		if inner, ok := errors.AsType[*openapi3.SchemaError](se.Origin); ok && inner != se {
			return schemaErrors(inner)
		}
		return []*openapi3.SchemaError{se}
	}
	return []*openapi3.SchemaError{{Reason: err.Error()}}
}

// describeSchemaError turns kin-openapi's verdict on one value into an
// issue: its kind, a pointer with "*" for array indexes, a problem that
// names types and never quotes the value (the report is meant to be pasted
// into a public issue), and where the schema at fault is.
func describeSchemaError(se *openapi3.SchemaError, body any, root *openapi3.SchemaRef, rootLoc string) issue {
	segs := se.JSONPointer()
	val, found := valueAt(body, segs)
	kind := KindOther
	switch se.SchemaField {
	case "type":
		kind = KindType
		if found && val == nil {
			kind = KindNull
		}
	case "nullable":
		kind = KindNull
	case "required":
		kind = KindMissing
	case "enum":
		kind = KindEnum
	case "format":
		kind = KindFormat
	case "additionalProperties":
		kind = KindExtra
	}
	if kind == KindMissing && len(segs) > 0 {
		// kin-openapi points at the missing property; the value it found
		// is the object that lacks it.
		val, found = nil, false
	}
	is := issue{kind: kind, pointer: starPointer(body, segs), observed: val, declared: se.Schema}
	is.schema, is.parent = schemaLocation(root, rootLoc, segs)
	want := "the schema"
	if se.Schema != nil {
		want = schemaType(se.Schema)
	}
	switch kind {
	case KindType:
		is.problem = fmt.Sprintf("is %s; the spec says %s", jsonKind(val), want)
	case KindNull:
		is.problem = fmt.Sprintf("is null; the spec says %s, not nullable", want)
	case KindMissing:
		is.problem = "is missing; the spec requires it"
	case KindEnum:
		is.problem = fmt.Sprintf("is a value outside the enum (%s)", strings.Join(enumValues(se.Schema), ", "))
	case KindFormat:
		is.problem = fmt.Sprintf("is a string that is not a %s", se.Schema.Format)
	case KindExtra:
		is.problem = "is not declared, and the schema allows no other properties"
		is.schema = is.parent
	default:
		is.problem = firstLine(se.Reason)
		if se.SchemaField != "" {
			is.problem = "breaks the schema's " + se.SchemaField + ": " + is.problem
		}
	}
	return is
}

// extras returns the properties of v that its schema does not declare, for
// schemas that declare properties and leave additionalProperties open
// (kin-openapi reports those closed as errors). A free-form object (no
// properties declared) has no extras.
func extras(ref *openapi3.SchemaRef, loc string, v any, ptr string, note func(loc string, v any)) []issue {
	if ref == nil || ref.Value == nil {
		return nil
	}
	s := ref.Value
	loc = refLocation(ref, loc)
	if note != nil {
		note(loc, v)
	}
	var out []issue
	switch val := v.(type) {
	case map[string]any:
		closed := s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has
		for _, name := range slices.Sorted(maps.Keys(val)) {
			p := escapeToken(name)
			if prop := s.Properties[name]; prop != nil {
				out = append(out, extras(prop, loc+".properties["+quote(name)+"]", val[name], ptr+"/"+p, note)...)
				continue
			}
			if len(s.Properties) == 0 || closed {
				continue
			}
			out = append(out, issue{kind: KindExtra, pointer: ptr + "/" + p, schema: loc, parent: loc, observed: val[name], allowed: true,
				problem: fmt.Sprintf("is not declared (%s); the schema allows other properties", jsonKind(val[name]))})
		}
	case []any:
		for _, item := range val {
			out = append(out, extras(s.Items, loc+".items", item, ptr+"/*", note)...)
		}
	}
	return out
}

// schemaLocation returns the JSONPath of the schema that segs reach from
// root (at rootLoc), and of the schema of its parent. A schema reached
// through a $ref to #/components/schemas/NAME is located there.
func schemaLocation(root *openapi3.SchemaRef, rootLoc string, segs []string) (loc, parent string) {
	ref, loc := root, refLocation(root, rootLoc)
	parent = loc
	for _, seg := range segs {
		if ref == nil || ref.Value == nil {
			return "", parent
		}
		parent = loc
		s := ref.Value
		switch {
		case s.Items != nil && (s.Type.Is(openapi3.TypeArray) || s.Properties[seg] == nil):
			ref, loc = s.Items, loc+".items"
		default:
			ref, loc = s.Properties[seg], loc+".properties["+quote(seg)+"]"
		}
		if ref != nil {
			loc = refLocation(ref, loc)
		}
	}
	if ref == nil {
		return "", parent
	}
	return loc, parent
}

// refLocation is where ref's schema stands: the component it refers to, or
// loc where it is inline.
func refLocation(ref *openapi3.SchemaRef, loc string) string {
	if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
		return "$.components.schemas[" + quote(name) + "]"
	}
	return loc
}

// quote writes s as a JSONPath string: 'ab'.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// valueAt returns the value at segs inside v.
func valueAt(v any, segs []string) (any, bool) {
	for _, seg := range segs {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// starPointer writes segs as an RFC 6901 pointer, with "*" for each index
// into an array, so that one drift found in every item of a list is one
// finding.
func starPointer(body any, segs []string) string {
	var b strings.Builder
	v := body
	for _, seg := range segs {
		b.WriteByte('/')
		if list, ok := v.([]any); ok {
			b.WriteByte('*')
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(list) {
				v = list[i]
			} else {
				v = nil
			}
			continue
		}
		b.WriteString(escapeToken(seg))
		if m, ok := v.(map[string]any); ok {
			v = m[seg]
		} else {
			v = nil
		}
	}
	return b.String()
}

// escapeToken escapes one RFC 6901 reference token: ~ first, then /.
func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// unescapeToken decodes one RFC 6901 reference token: ~1 first, then ~0,
// so that "~01" is "~1", not "/".
func unescapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// lastToken returns the decoded last reference token of an RFC 6901
// pointer: the name of the property it points at.
func lastToken(pointer string) string {
	return unescapeToken(pointer[strings.LastIndex(pointer, "/")+1:])
}

// jsonKind names the JSON type of a decoded value: "a string", "a number".
func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		if x == float64(int64(x)) {
			return "an integer"
		}
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// openAPIType is the OpenAPI type of a decoded JSON value.
func openAPIType(v any) string {
	switch x := v.(type) {
	case string:
		return openapi3.TypeString
	case float64:
		if x == float64(int64(x)) {
			return openapi3.TypeInteger
		}
		return openapi3.TypeNumber
	case bool:
		return openapi3.TypeBoolean
	case []any:
		return openapi3.TypeArray
	}
	return openapi3.TypeObject
}

// schemaType names what a schema promises: "string (date-time)".
func schemaType(s *openapi3.Schema) string {
	t := "any value"
	if s.Type != nil && len(s.Type.Slice()) > 0 {
		t = strings.Join(s.Type.Slice(), "|")
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	return t
}

// enumValues returns the allowed values of s as text, nil if it has none.
func enumValues(s *openapi3.Schema) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, v := range s.Enum {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// firstLine returns the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}
