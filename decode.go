package pagecall

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the lenient decoder: how a 2xx body that encoding/json
// refuses, or that lacks a member the model requires, becomes the model
// anyway, field by field, with a FieldDrift for each field that did not
// fit.

// FieldDrift is one place where a 2xx answer left the spec.
type FieldDrift struct {
	// Pointer is an RFC 6901 JSON pointer into the body, e.g.
	// "/user/created_at"; "" is the whole body.
	Pointer string
	// Reason says what was there and what the model wanted, e.g. "want a
	// date-time string, got number 1700000000".
	Reason string
}

// String returns the pointer and the reason.
func (d FieldDrift) String() string {
	p := d.Pointer
	if p == "" {
		p = "/"
	}
	return p + ": " + d.Reason
}

// decodeLenient decodes data into v (a pointer) as encoding/json would,
// except that it never stops at a field that does not fit: such a field is
// set to its zero value and recorded as drift, and decoding goes on with
// the rest. A required member (a field without omitempty or omitzero) that
// is missing is drift too, and so is null where the model has no room for
// it (a required string, number, object, list or map). encoding/json
// already goes on past a type mismatch but reports only the first; it stops
// at the error of a json.Unmarshaler (a time.Time's, for one), accepts null
// for any value and says nothing of a missing member. Nothing in the
// standard library or a well-kept module decodes "what fits" and says where
// the rest went (encoding/json/v2 is still an experiment in Go 1.26), hence
// this walker over the model's type. It runs only on the slow path, when
// the generated parser failed, the body holds a null, or a required member
// is missing (see shape.present).
//
// key is the API key: a reason that quotes a value never quotes it (see
// redactKey), nor a pointer that names it.
func decodeLenient(data []byte, v any, key string) []FieldDrift {
	d := lenient{key: key}
	d.value(bytes.TrimSpace(data), reflect.ValueOf(v).Elem(), "", true)
	return d.drift
}

// lenient collects the drift of one decoding.
type lenient struct {
	drift []FieldDrift
	key   string // the API key, never quoted
}

// add records drift at ptr, with the API key redacted from the pointer (a
// map key may echo it) and from the reason.
func (d *lenient) add(ptr, format string, args ...any) {
	d.drift = append(d.drift, FieldDrift{Pointer: redactKey(ptr, d.key), Reason: redactKey(fmt.Sprintf(format, args...), d.key)})
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// value decodes raw into v at pointer ptr. required is false for a field
// that the model marks optional (omitempty or omitzero), where null means
// "absent".
func (d *lenient) value(raw []byte, v reflect.Value, ptr string, required bool) {
	if len(raw) == 0 {
		return
	}
	if string(raw) == "null" {
		d.null(v, ptr, required)
		return
	}
	if v.Kind() == reflect.Pointer {
		// An optional value that did not fit at all stays absent (nil),
		// even where a reused destination held one; one that fitted in
		// part keeps what fitted.
		e := reflect.New(v.Type().Elem())
		before := len(d.drift)
		d.value(raw, e.Elem(), ptr, true)
		if len(d.drift) == before || d.drift[before].Pointer != redactKey(ptr, d.key) {
			v.Set(e)
		} else {
			v.SetZero()
		}
		return
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) || v.Kind() == reflect.Interface {
		d.whole(raw, v, ptr)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.object(raw, v, ptr)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 && raw[0] == '"' {
			d.whole(raw, v, ptr) // []byte is a base64 string
			return
		}
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			d.add(ptr, "want %s, got %s", describe(v.Type()), d.kindOf(raw))
			v.SetZero()
			return
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			d.value(item, s.Index(i), ptr+"/"+strconv.Itoa(i), true)
		}
		v.Set(s)
	case reflect.Map:
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil || v.Type().Key().Kind() != reflect.String {
			d.whole(raw, v, ptr)
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(fields))
		for k, item := range fields {
			e := reflect.New(v.Type().Elem()).Elem()
			d.value(item, e, ptr+"/"+escapePointer(k), true)
			m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(m)
	default:
		d.whole(raw, v, ptr)
	}
}

// null handles a JSON null at ptr: "absent" for an optional field, a
// pointer or an interface; drift for a required value that has no room for
// it (a list and a map included: the spec's arrays and objects are not
// nullable). A drifted value is set to its zero value, which a reused
// destination (Client.Do's out) may not hold.
func (d *lenient) null(v reflect.Value, ptr string, required bool) {
	if !required || v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		return
	}
	d.add(ptr, "want %s, got null", describe(v.Type()))
	v.SetZero()
}

// whole decodes raw into v with encoding/json, and records its error as
// drift, setting v to its zero value.
func (d *lenient) whole(raw []byte, v reflect.Value, ptr string) {
	p := reflect.New(v.Type())
	if err := json.Unmarshal(raw, p.Interface()); err != nil {
		d.add(ptr, "want %s, got %s", describe(v.Type()), d.kindOf(raw))
		v.SetZero()
		return
	}
	v.Set(p.Elem())
}

// object decodes a JSON object into the struct v, field by field. Members
// the struct has no field for are ignored, as encoding/json ignores them:
// Pagecall may add fields.
func (d *lenient) object(raw []byte, v reflect.Value, ptr string) {
	var fields map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
		d.add(ptr, "want an object, got %s", d.kindOf(raw))
		v.SetZero()
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		item, ok := fields[name]
		if !ok {
			item, ok = foldedField(fields, name)
		}
		required := !optionalTag(opts)
		if !ok {
			if required {
				d.add(ptr+"/"+escapePointer(name), "missing: the spec requires %s", describe(f.Type))
				v.Field(i).SetZero()
			}
			continue
		}
		d.value(bytes.TrimSpace(item), v.Field(i), ptr+"/"+escapePointer(name), required)
	}
}

// optionalTag reports whether the options of a json tag mark the field
// optional (omitempty or omitzero): every other field is required.
func optionalTag(opts string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == "omitempty" || o == "omitzero" {
			return true
		}
	}
	return false
}

// foldedField finds a member whose name matches name case-insensitively, as
// encoding/json matches them.
func foldedField(fields map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	for k, v := range fields {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// escapePointer escapes a member name as one RFC 6901 reference token.
func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// describe names what a Go type wants, in the spec's words.
func describe(t reflect.Type) string {
	if t == timeType {
		return "a date-time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return describe(t.Elem())
	}
	return t.String()
}

// maxDriftValue bounds how much of a drifted number or boolean a reason
// quotes; maxDriftString how much of a string's text, which may be a token
// or another secret that Pagecall echoed: a short prefix tells a date from
// a name, and gives away little of a secret.
const (
	maxDriftValue  = 40
	maxDriftString = 8
)

// kindOf names the JSON value raw holds, with a short quote of scalars,
// from which the API key is redacted before it is cut.
func (d *lenient) kindOf(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch c := raw[0]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		text := redactKey(string(raw[1:]), d.key) // the text and its closing quote
		return `string "` + cutAfter(strings.TrimSuffix(text, `"`), maxDriftString)
	case c == 't' || c == 'f':
		return "boolean " + truncate(redactKey(string(raw), d.key), maxDriftValue)
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "number " + truncate(redactKey(string(raw), d.key), maxDriftValue)
	}
	return "invalid JSON"
}

// cutAfter closes the quote of a string's text, cut to about n bytes on a
// rune boundary and marked "…" when cut. A redaction mark that the cut
// would split is kept whole.
func cutAfter(text string, n int) string {
	if len(text) <= n {
		return text + `"`
	}
	if i := strings.Index(text, redacted); i >= 0 && i < n && i+len(redacted) > n {
		n = i + len(redacted)
		if len(text) == n {
			return text + `"`
		}
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n] + `…"`
}
