package pagecalltest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// DriftKind is how a planted Drift changes an answer.
type DriftKind string

// The kinds of drift a Server can plant. Against the spec, retype, null, a
// removed required field and an unknown enum value are violations; an extra
// field is not (Pagecall's schemas do not set additionalProperties: false,
// and its spec says answers "may contain more information"), but it is an
// undocumented field that `pagecall contract check` still reports.
const (
	// DriftRetype replaces the value with one of another JSON type
	// (Drift.Value, or by default: a string becomes the number 1700000000,
	// anything else the string "retyped").
	DriftRetype DriftKind = "retype"
	// DriftRemove removes the object member (or array item).
	DriftRemove DriftKind = "remove"
	// DriftNull sets the value to JSON null.
	DriftNull DriftKind = "null"
	// DriftUnknownEnum sets the value to a string no enum declares
	// (Drift.Value, or by default "pagecall-drift-unknown").
	DriftUnknownEnum DriftKind = "enum"
	// DriftExtraField adds the member the pointer names to its parent
	// object (with Drift.Value, or by default the string
	// "planted by pagecalltest").
	DriftExtraField DriftKind = "extra"
)

// DriftKinds lists every DriftKind, in the order of the constants.
func DriftKinds() []DriftKind {
	return []DriftKind{DriftRetype, DriftRemove, DriftNull, DriftUnknownEnum, DriftExtraField}
}

// Drift is a deviation from the spec that the server plants in its
// successful (2xx) JSON answers to one operation, on purpose: to see how a
// client behaves when Pagecall answers off-spec. It is applied to the
// answer's JSON just before it is written, after the answer was built (and
// checked) from the spec, so only the planted pointers leave the spec.
// Requests are validated as usual; fault answers are never changed.
type Drift struct {
	// Operation is the operationId of the operation whose answers drift,
	// compared without regard to case ("GetUser" and the spec's "getUser"
	// are the same); "" means every operation.
	Operation string
	// Pointer is an RFC 6901 JSON pointer into the answer's body, e.g.
	// "/user/created_at". A segment "*" stands for every item of an array
	// (and every member of an object): "/users/*/created_at" drifts every
	// listed user, "/users/0/created_at" the first only. A pointer that
	// addresses nothing in an answer (an empty list, say) changes nothing.
	Pointer string
	// Kind is how the value changes.
	Kind DriftKind
	// Value is the value DriftRetype, DriftUnknownEnum and DriftExtraField
	// plant; nil picks the default given with each kind. It must encode to
	// JSON.
	Value any
}

// String formats d as ParseDrift reads it: "GetUser:/user/created_at:retype".
func (d Drift) String() string {
	return d.Operation + ":" + d.Pointer + ":" + string(d.Kind)
}

// ParseDrift reads a drift written OPERATION:POINTER:KIND, e.g.
// "GetUser:/user/created_at:retype" or "ListUsers:/users/*/name:null", as
// the --drift flag of "pagecall mock" takes it. An empty OPERATION is every
// operation. The default Value of the kind is planted.
func ParseDrift(s string) (Drift, error) {
	op, rest, ok := strings.Cut(s, ":")
	i := strings.LastIndex(rest, ":")
	if !ok || i < 0 {
		return Drift{}, fmt.Errorf("pagecalltest: drift %q: want OPERATION:POINTER:KIND, e.g. GetUser:/user/created_at:retype", s)
	}
	d := Drift{Operation: op, Pointer: rest[:i], Kind: DriftKind(rest[i+1:])}
	return d, d.check()
}

// check reports whether d can be planted.
func (d Drift) check() error {
	if !slices.Contains(DriftKinds(), d.Kind) {
		return fmt.Errorf("pagecalltest: drift %s: unknown kind %q (want one of %s)", d, d.Kind, kindList())
	}
	if d.Pointer == "" || !strings.HasPrefix(d.Pointer, "/") {
		return fmt.Errorf("pagecalltest: drift %s: the pointer must start with / and name a value inside the body", d)
	}
	if d.Value != nil {
		if _, err := json.Marshal(d.Value); err != nil {
			return fmt.Errorf("pagecalltest: drift %s: value: %w", d, err)
		}
	}
	return nil
}

func kindList() string {
	var s []string
	for _, k := range DriftKinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// PlantDrift makes the server answer with the given drift from now on, in
// addition to any planted before. It returns an error, and plants nothing,
// if a drift has an unknown kind or a pointer that does not start with /.
func (s *Server) PlantDrift(drift ...Drift) error {
	for _, d := range drift {
		if err := d.check(); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drift = append(s.drift, drift...)
	return nil
}

// ClearDrift removes every planted drift: answers follow the spec again.
func (s *Server) ClearDrift() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drift = nil
}

// Drift returns the planted drift, in the order it was planted.
func (s *Server) Drift() []Drift {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.drift)
}

// applyDrift returns payload, the JSON answer of operationID with the given
// status, with the planted drift applied. Anything but a 2xx JSON answer,
// or an answer without planted drift, is returned as it is.
func (s *Server) applyDrift(operationID string, status int, payload []byte) []byte {
	if status < 200 || status > 299 || len(payload) == 0 {
		return payload
	}
	var planted []Drift
	for _, d := range s.Drift() {
		if d.Operation == "" || strings.EqualFold(d.Operation, operationID) {
			planted = append(planted, d)
		}
	}
	if len(planted) == 0 {
		return payload
	}
	var body any
	if err := json.Unmarshal(payload, &body); err != nil {
		return payload
	}
	for _, d := range planted {
		segs, err := splitPointer(d.Pointer)
		if err != nil || len(segs) == 0 {
			continue
		}
		body = plant(body, segs, d)
	}
	return mustJSON(body)
}

// splitPointer returns the unescaped segments of an RFC 6901 pointer.
func splitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, errors.New("a JSON pointer starts with /")
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return segs, nil
}

// plant applies d at segs inside v and returns the new v. The last segment
// is changed in its parent; "*" fans out over every item.
func plant(v any, segs []string, d Drift) any {
	seg, last := segs[0], len(segs) == 1
	switch c := v.(type) {
	case map[string]any:
		keys := []string{seg}
		if seg == "*" {
			keys = keys[:0]
			for k := range c {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			cur, ok := c[k]
			switch {
			case last && d.Kind == DriftExtraField:
				c[k] = valueOr(d.Value, "planted by pagecalltest")
			case !ok:
			case last && d.Kind == DriftRemove:
				delete(c, k)
			case last:
				c[k] = drifted(cur, d)
			default:
				c[k] = plant(cur, segs[1:], d)
			}
		}
		return c
	case []any:
		var idx []int
		if seg == "*" {
			for i := range c {
				idx = append(idx, i)
			}
		} else if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(c) {
			idx = []int{i}
		}
		if last && d.Kind == DriftRemove {
			kept := make([]any, 0, len(c))
			for i, x := range c {
				if !slices.Contains(idx, i) {
					kept = append(kept, x)
				}
			}
			return kept
		}
		for _, i := range idx {
			if last {
				c[i] = drifted(c[i], d)
			} else {
				c[i] = plant(c[i], segs[1:], d)
			}
		}
		return c
	}
	return v
}

// drifted is the value that replaces cur for a retype, null or enum drift.
func drifted(cur any, d Drift) any {
	switch d.Kind {
	case DriftNull:
		return nil
	case DriftUnknownEnum:
		return valueOr(d.Value, "pagecall-drift-unknown")
	case DriftRetype:
		if d.Value != nil {
			return d.Value
		}
		if _, isString := cur.(string); isString {
			return 1700000000
		}
		return "retyped"
	}
	return cur
}

func valueOr(v, def any) any {
	if v == nil {
		return def
	}
	return v
}
