package pagecall

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// This file holds the fast check that a 2xx answer the generated parser
// took holds every member the model requires. encoding/json leaves a
// missing member at its zero value and says nothing, so a removed
// "/member/room_id" would silently become "". The check reads the body
// once, in place, without building values, against a shape of the model
// that a client computes once per type: the members each
// object must have, and the ones below which something is required. Only
// when a member is missing does the call take the slow path, the lenient
// decoder, which says where.

// shape is what the check knows of a model type; nil when nothing in it is
// required, at any depth.
type shape struct {
	// fields are an object's members that are required (bit) or have a
	// shape of their own (sub); nil for a list or a map.
	fields []shapeField
	// want has the bit of every required field; all is set for an object
	// whose required fields are too many for it, which the check always
	// sends down the slow path.
	want uint64
	all  bool
	// items is the shape of a list's or a map's items.
	items *shape
}

// shapeField is one member of an object's shape.
type shapeField struct {
	name string
	bit  uint64 // 0 for an optional member
	sub  *shape
}

// shapeOf returns the shape of t, building it with seen guarding a type
// that contains itself.
func shapeOf(t reflect.Type, seen map[reflect.Type]*shape) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if sh, ok := seen[t]; ok {
		return sh
	}
	if t == timeType || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil // decoded whole: it has no members of its own
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // bytes, as base64
		}
		fallthrough
	case reflect.Map:
		if t.Kind() == reflect.Map && t.Key().Kind() != reflect.String {
			return nil
		}
		sh := &shape{}
		seen[t] = sh
		if sh.items = shapeOf(t.Elem(), seen); sh.items == nil {
			seen[t] = nil
			return nil
		}
		return sh
	case reflect.Struct:
		sh := &shape{}
		seen[t] = sh
		n := 0
		for f := range t.Fields() {
			name, opts, ok := jsonField(f)
			if !ok {
				continue
			}
			sf := shapeField{name: name, sub: shapeOf(f.Type, seen)}
			if !optionalTag(opts) {
				if n == 64 {
					sh.all = true
				} else {
					sf.bit = 1 << n
					sh.want |= sf.bit
					n++
				}
			}
			if sf.bit != 0 || sf.sub != nil {
				sh.fields = append(sh.fields, sf) // only what the check needs: fewer names to compare
			}
		}
		if len(sh.fields) == 0 && !sh.all {
			seen[t] = nil
			return nil
		}
		return sh
	}
	return nil
}

// jsonField returns the member name and tag options of a struct field, as
// encoding/json and the lenient decoder read them; ok is false for a field
// that is not decoded.
func jsonField(f reflect.StructField) (name, opts string, ok bool) {
	if !f.IsExported() {
		return "", "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", "", false
	}
	name, opts, _ = strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, opts, true
}

// present reports whether body, one JSON value that the model's parser
// accepted, holds every member that sh requires, at every depth. It reads
// body once, in place, and allocates nothing (but to unescape a member name
// written with escapes). A type mismatch is not its concern: the parser
// accepted the body.
//
// It is hand-written, not gjson's ForEach: gjson finds the end of each
// nested value before handing it over, so a list page is read once per
// level of nesting, which made the check cost a third of the decoding it
// guards; one pass that skips what the shape does not need costs a few
// percent.
func (sh *shape) present(body []byte) bool {
	if sh == nil {
		return true
	}
	s := scan{b: body}
	s.space()
	if s.i >= len(s.b) {
		return true
	}
	return s.value(sh)
}

// scan reads one JSON text that encoding/json has accepted: it trusts the
// syntax, and only finds where things start and end.
type scan struct {
	b []byte
	i int
}

// space skips white space.
func (s *scan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value reads the value at s.i, checking it against sh (nil: skip it), and
// reports whether everything sh requires is there.
func (s *scan) value(sh *shape) bool {
	switch {
	case sh == nil:
		s.skip()
		return true
	case s.b[s.i] == '{':
		return s.object(sh)
	case s.b[s.i] == '[' && sh.items != nil:
		s.i++
		s.space()
		if s.b[s.i] == ']' {
			s.i++
			return true
		}
		for {
			s.space()
			if !s.value(sh.items) {
				return false
			}
			s.space()
			if s.b[s.i] == ']' {
				s.i++
				return true
			}
			s.i++ // ','
		}
	}
	s.skip()
	return true
}

// object reads the object at s.i against sh: an object's shape, or a map's
// (items: every member is an item).
func (s *scan) object(sh *shape) bool {
	s.i++
	var seen uint64
	for {
		s.space()
		if s.b[s.i] == '}' {
			s.i++
			break
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		from, to, esc := s.str()
		s.space()
		s.i++ // ':'
		s.space()
		sub := sh.items
		if sh.items == nil {
			f := sh.field(s.b[from:to], esc)
			if f != nil {
				seen |= f.bit
				sub = f.sub
			}
		}
		if !s.value(sub) {
			return false
		}
	}
	if sh.items != nil {
		return true
	}
	return !sh.all && seen&sh.want == sh.want
}

// str reads the string at s.i and returns where its text is, and whether
// it has escapes.
func (s *scan) str() (from, to int, esc bool) {
	s.i++
	from = s.i
	for {
		j := bytes.IndexByte(s.b[s.i:], '"')
		if j < 0 {
			s.i = len(s.b)
			return from, s.i, esc
		}
		s.i += j + 1
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		n := 0
		for k := s.i - 2; k >= from && s.b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return from, s.i - 1, esc || bytes.IndexByte(s.b[from:s.i-1], '\\') >= 0
		}
	}
}

// skip reads past the value at s.i.
func (s *scan) skip() {
	switch s.b[s.i] {
	case '"':
		s.str()
		return
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				s.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return
				}
			}
			s.i++
		}
		return
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return
		}
		s.i++
	}
}

// field finds the member named by the JSON string text name (esc: with
// escapes) as encoding/json does: preferring an exact match, else a
// case-insensitive one.
func (sh *shape) field(name []byte, esc bool) *shapeField {
	if esc {
		var s string
		if json.Unmarshal(append(append([]byte{'"'}, name...), '"'), &s) != nil {
			return nil
		}
		name = []byte(s)
	}
	for i := range sh.fields {
		if string(name) == sh.fields[i].name {
			return &sh.fields[i]
		}
	}
	for i := range sh.fields {
		if strings.EqualFold(string(name), sh.fields[i].name) {
			return &sh.fields[i]
		}
	}
	return nil
}

// shapeCache holds a client's shapes: built once per type, read by every
// call. Its zero value is ready.
type shapeCache struct {
	byType sync.Map // reflect.Type of a call's destination -> *shape
}

// of returns the shape of t.
func (sc *shapeCache) of(t reflect.Type) *shape {
	if v, ok := sc.byType.Load(t); ok {
		return v.(*shape)
	}
	v, _ := sc.byType.LoadOrStore(t, shapeOf(t, map[reflect.Type]*shape{}))
	return v.(*shape)
}
