package pagecall

import (
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/tidwall/gjson"
)

// This file holds the fast check that a 2xx answer the generated parser
// took holds every member the model requires. encoding/json leaves a
// missing member at its zero value and says nothing, so a removed
// "/member/room_id" would silently become "". The check walks the body once
// with gjson, which reads JSON in place without building values, against a
// shape of the model that a client computes once per type: the members each
// object must have, and the ones below which something is required. Only
// when a member is missing does the call take the slow path, the lenient
// decoder, which says where.

// shape is what the check knows of a model type; nil when nothing in it is
// required, at any depth.
type shape struct {
	// fields are an object's members that are required or have a shape of
	// their own; nil for a list or a map.
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
				sh.fields = append(sh.fields, sf)
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
// body in place and allocates nothing (gjson allocates only to unescape a
// string value that has escapes). A type mismatch is not its concern: the
// parser accepted the body.
func (sh *shape) present(body []byte) bool {
	if sh == nil || len(body) == 0 {
		return true
	}
	// The strings gjson returns are views of body, which nothing changes
	// while the check runs and none of which outlives it.
	return sh.holds(gjson.Parse(unsafe.String(&body[0], len(body))))
}

// holds is present for one value.
func (sh *shape) holds(v gjson.Result) bool {
	if sh == nil {
		return true
	}
	if sh.items != nil {
		if !v.IsArray() && !v.IsObject() {
			return true
		}
		ok := true
		v.ForEach(func(_, item gjson.Result) bool {
			ok = sh.items.holds(item)
			return ok
		})
		return ok
	}
	if !v.IsObject() {
		return true
	}
	if sh.all {
		return false
	}
	var seen uint64
	ok := true
	v.ForEach(func(k, member gjson.Result) bool {
		f := sh.field(k.Str)
		if f == nil {
			return true
		}
		seen |= f.bit
		ok = f.sub.holds(member)
		return ok
	})
	return ok && seen&sh.want == sh.want
}

// field finds the member name in the shape as encoding/json does:
// preferring an exact match, else a case-insensitive one.
func (sh *shape) field(name string) *shapeField {
	for i := range sh.fields {
		if sh.fields[i].name == name {
			return &sh.fields[i]
		}
	}
	for i := range sh.fields {
		if strings.EqualFold(sh.fields[i].name, name) {
			return &sh.fields[i]
		}
	}
	return nil
}

// shapeCache holds a client's shapes: built once per type, read by every
// call. Its zero value is ready.
type shapeCache struct {
	byType   sync.Map // reflect.Type of a Client.Do destination -> *shape
	byAnswer sync.Map // reflect.Type of a generated response -> answerShapes
}

// of returns the shape of t.
func (sc *shapeCache) of(t reflect.Type) *shape {
	if v, ok := sc.byType.Load(t); ok {
		return v.(*shape)
	}
	sh := shapeOf(t, map[reflect.Type]*shape{})
	sc.byType.Store(t, sh)
	return sh
}

// answerShapes are the shapes of a generated response type's JSON bodies,
// one per status (its JSON200 field, say).
type answerShapes []struct {
	status int
	sh     *shape
}

// answer returns the shape of the body that a generated response type t (a
// pointer to a struct with JSON200 and the like) decodes for status.
func (sc *shapeCache) answer(t reflect.Type, status int) *shape {
	v, ok := sc.byAnswer.Load(t)
	if !ok {
		var all answerShapes
		if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
			for f := range t.Elem().Fields() {
				if code, found := strings.CutPrefix(f.Name, "JSON"); found {
					if n, err := strconv.Atoi(code); err == nil {
						all = append(all, struct {
							status int
							sh     *shape
						}{n, shapeOf(f.Type, map[reflect.Type]*shape{})})
					}
				}
			}
		}
		v, _ = sc.byAnswer.LoadOrStore(t, all)
	}
	for _, a := range v.(answerShapes) {
		if a.status == status {
			return a.sh
		}
	}
	return nil
}
