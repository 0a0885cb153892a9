package pagecalltest

import (
	"encoding/json"
	"math"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// maxSampleDepth bounds recursion through self-referencing schemas.
const maxSampleDepth = 12

// sample returns a JSON value (as encoding/json would decode it) that is
// valid for schema. It prefers what the document itself offers: the
// schema's example, then its default, then the first enum value; each is
// used only if it validates, because published examples can be wrong. It
// falls back to a value built from the schema's type, properties and
// constraints.
//
// kin-openapi has no such generator (openapi3gen goes the other way, from Go
// types to schemas), hence this small one.
func sample(ref *openapi3.SchemaRef) any {
	return sampleDepth(ref, 0)
}

func sampleDepth(ref *openapi3.SchemaRef, depth int) any {
	if ref == nil || ref.Value == nil {
		return map[string]any{}
	}
	sc := ref.Value
	for _, candidate := range []any{sc.Example, sc.Default} {
		if candidate != nil && validFor(sc, candidate) {
			return clone(candidate)
		}
	}
	for _, e := range sc.Enum {
		if validFor(sc, e) {
			return clone(e)
		}
	}
	if depth > maxSampleDepth {
		if sc.Nullable {
			return nil
		}
		return zeroFor(sc)
	}

	switch {
	case len(sc.AllOf) > 0:
		merged := map[string]any{}
		for _, part := range sc.AllOf {
			if m, ok := sampleDepth(part, depth+1).(map[string]any); ok {
				for k, v := range m {
					merged[k] = v
				}
			}
		}
		for k, v := range sampleObject(sc, depth) {
			merged[k] = v
		}
		return merged
	case len(sc.OneOf) > 0:
		return sampleDepth(sc.OneOf[0], depth+1)
	case len(sc.AnyOf) > 0:
		return sampleDepth(sc.AnyOf[0], depth+1)
	}

	switch {
	case sc.Type.Is(openapi3.TypeObject), sc.Type.IsEmpty() && len(sc.Properties) > 0:
		return sampleObject(sc, depth)
	case sc.Type.Is(openapi3.TypeArray):
		n := max(1, int(sc.MinItems))
		items := make([]any, n)
		for i := range items {
			items[i] = sampleDepth(sc.Items, depth+1)
		}
		return items
	}
	// Scalars: zeroFor already builds a valid value from the type.
	return zeroFor(sc)
}

// sampleObject fills every declared property, and gives required names the
// document forgot to declare (it happens: ListMembers once required
// `room_templates`) an empty string, which an undeclared property accepts.
func sampleObject(sc *openapi3.Schema, depth int) map[string]any {
	obj := make(map[string]any, len(sc.Properties))
	for name, p := range sc.Properties {
		if p.Value != nil && p.Value.WriteOnly {
			continue
		}
		obj[name] = sampleDepth(p, depth+1)
	}
	for _, name := range sc.Required {
		if _, ok := obj[name]; !ok {
			obj[name] = ""
		}
	}
	return obj
}

func sampleString(sc *openapi3.Schema) string {
	var s string
	switch sc.Format {
	case "date-time":
		s = "2023-01-01T01:00:00Z"
	case "date":
		s = "2023-01-01"
	case "time":
		s = "01:00:00"
	case "email":
		s = "user@example.com"
	case "uri", "url":
		s = "https://example.com/"
	case "uuid":
		s = "00000000-0000-4000-8000-000000000000"
	case "ipv4":
		s = "127.0.0.1"
	case "ipv6":
		s = "::1"
	case "byte":
		s = "AA=="
	default:
		s = "string"
	}
	if n := int(sc.MinLength); len(s) < n {
		s += strings.Repeat("x", n-len(s))
	}
	if sc.MaxLength != nil && uint64(len(s)) > *sc.MaxLength {
		s = s[:*sc.MaxLength]
	}
	return s
}

func sampleNumber(sc *openapi3.Schema) float64 {
	v := 0.0
	if sc.Min != nil {
		v = *sc.Min
		if sc.ExclusiveMin.IsTrue() {
			v++
		}
	} else if sc.Max != nil && v > *sc.Max {
		v = *sc.Max
		if sc.ExclusiveMax.IsTrue() {
			v--
		}
	}
	if m := sc.MultipleOf; m != nil && *m > 0 {
		v = math.Ceil(v / *m) * *m
	}
	if sc.Type.Is(openapi3.TypeInteger) {
		v = math.Ceil(v)
	}
	return v
}

// zeroFor is the plainest value for a schema, used where recursion stops.
func zeroFor(sc *openapi3.Schema) any {
	switch {
	case sc.Type.Is(openapi3.TypeArray):
		return []any{}
	case sc.Type.Is(openapi3.TypeString):
		return sampleString(sc)
	case sc.Type.Is(openapi3.TypeInteger), sc.Type.Is(openapi3.TypeNumber):
		return sampleNumber(sc)
	case sc.Type.Is(openapi3.TypeBoolean):
		return false
	}
	return map[string]any{}
}

// validFor reports whether v satisfies sc. The value goes through a JSON
// round trip first so that it has the shape a decoded response body has.
func validFor(sc *openapi3.Schema, v any) bool {
	return sc.VisitJSON(clone(v), openapi3.MultiErrors()) == nil
}

// clone deep-copies a JSON value so that callers may mutate it without
// touching the document's examples.
func clone(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

// jsonBodySchema returns the schema of the first JSON media type in content,
// or nil.
func jsonBodySchema(content openapi3.Content) *openapi3.SchemaRef {
	keys := make([]string, 0, len(content))
	for k := range content {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.Contains(k, "json") && content[k] != nil {
			return content[k].Schema
		}
	}
	return nil
}
