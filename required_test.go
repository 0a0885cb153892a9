package pagecall

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// requiredModel has required members at every depth: in an object, in the
// items of a list, in the values of a map, below an optional pointer.
type requiredModel struct {
	ID    string                  `json:"id"`
	Note  string                  `json:"note,omitempty"`
	Items []requiredItem          `json:"items,omitempty"`
	ByKey map[string]requiredItem `json:"by_key,omitempty"`
	Opt   *requiredItem           `json:"opt,omitempty"`
	At    time.Time               `json:"at,omitzero"`
	Next  *requiredModel          `json:"next,omitempty"` // a type that contains itself
}

type requiredItem struct {
	Name string `json:"name"`
	Tag  string `json:"tag,omitempty"`
}

// TestShapePresent: the fast check finds a required member missing at any
// depth, matches names as encoding/json does, and passes a complete body.
func TestShapePresent(t *testing.T) {
	sh := shapeOf(reflect.TypeFor[*requiredModel](), map[reflect.Type]*shape{})
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"complete", `{"id":"r","items":[{"name":"a"},{"name":"b","tag":"t"}],"by_key":{"k":{"name":"c"}},"opt":{"name":"d"}}`, true},
		{"only the required", `{"id":"r"}`, true},
		{"another case", `{"ID":"r"}`, true},
		{"unknown members", `{"id":"r","extra":{"name":1},"items":[]}`, true},
		{"missing at the top", `{"note":"n"}`, false},
		{"missing in a list item", `{"id":"r","items":[{"name":"a"},{"tag":"t"}]}`, false},
		{"missing in a map value", `{"id":"r","by_key":{"k":{"tag":"t"}}}`, false},
		{"missing below an optional pointer", `{"id":"r","opt":{}}`, false},
		{"missing in a nested copy of itself", `{"id":"r","next":{"note":"n"}}`, false},
		{"a required name only inside a string", `{"note":"\"id\":1"}`, false},
		{"empty body", ``, true},
	}
	for _, tt := range tests {
		if got := sh.present([]byte(tt.body)); got != tt.want {
			t.Errorf("%s: present(%s) = %v, want %v", tt.name, tt.body, got, tt.want)
		}
	}
	if sh := shapeOf(reflect.TypeFor[map[string]any](), map[reflect.Type]*shape{}); sh != nil {
		t.Errorf("a free-form map has a shape: %+v", sh)
	}
}

// TestShapePresentAllocatesNothing: the check on the fast path of every
// call costs no allocation.
func TestShapePresentAllocatesNothing(t *testing.T) {
	var sc shapeCache
	body := []byte(`{"id":"r","items":[{"name":"a"},{"name":"b","tag":"t"}],"by_key":{"k":{"name":"c"}},"opt":{"name":"d"}}`)
	typ := reflect.TypeFor[*requiredModel]()
	if !sc.of(typ).present(body) {
		t.Fatal("a complete body fails the check")
	}
	if n := testing.AllocsPerRun(100, func() { sc.of(typ).present(body) }); n != 0 {
		t.Errorf("%v allocations per check, want 0", n)
	}
}

// TestDecodeLenientRequired: a required member that is missing, and null
// where the model has no room for it (a required list, map or object
// included), is drift at its pointer; an optional null is not.
func TestDecodeLenientRequired(t *testing.T) {
	type inner struct {
		A string `json:"a"`
	}
	type model struct {
		List   []string          `json:"list"`
		Labels map[string]string `json:"labels"`
		In     inner             `json:"in"`
		Ptr    *inner            `json:"ptr"` // required, and may be null
		OptL   []string          `json:"opt_l,omitempty"`
	}
	full := `"list":[],"labels":{},"in":{"a":"x"},"ptr":null`
	tests := []struct {
		name  string
		body  string
		drift []string
	}{
		{"complete", `{` + full + `}`, nil},
		{"null for a required list", `{"list":null,"labels":{},"in":{"a":"x"},"ptr":null}`, []string{"/list"}},
		{"null for a required map", `{"list":[],"labels":null,"in":{"a":"x"},"ptr":null}`, []string{"/labels"}},
		{"null for a required object", `{"list":[],"labels":{},"in":null,"ptr":null}`, []string{"/in"}},
		{"null for an optional list", `{` + full + `,"opt_l":null}`, nil},
		{"a required member missing", `{"labels":{},"in":{"a":"x"},"ptr":null}`, []string{"/list"}},
		{"a required pointer missing", `{"list":[],"labels":{},"in":{"a":"x"}}`, []string{"/ptr"}},
		{"a required member of an object missing", `{"list":[],"labels":{},"in":{},"ptr":{"a":"y"}}`, []string{"/in/a"}},
		{"null in a list of strings", `{"list":["a",null],"labels":{},"in":{"a":"x"},"ptr":null}`, []string{"/list/1"}},
	}
	for _, tt := range tests {
		var m model
		var ptrs []string
		for _, d := range decodeLenient([]byte(tt.body), &m, "") {
			ptrs = append(ptrs, d.Pointer)
		}
		if !reflect.DeepEqual(ptrs, tt.drift) {
			t.Errorf("%s: drift at %q, want %q", tt.name, ptrs, tt.drift)
		}
	}
}

// TestDecodeLenientResetsReused: decoding into a destination that holds an
// earlier answer (Client.Do's reused out) sets every drifted field to its
// zero value, and an optional pointer that did not fit to nil.
func TestDecodeLenientResetsReused(t *testing.T) {
	type inner struct {
		A string `json:"a"`
	}
	type model struct {
		S    string            `json:"s"`
		N    int               `json:"n"`
		L    []string          `json:"l"`
		M    map[string]string `json:"m"`
		In   inner             `json:"in"`
		Opt  *inner            `json:"opt,omitempty"`
		When time.Time         `json:"when"`
		Keep string            `json:"keep,omitempty"`
	}
	earlier := func() model {
		return model{S: "old", N: 9, L: []string{"old"}, M: map[string]string{"k": "old"}, In: inner{A: "old"},
			Opt: &inner{A: "old"}, When: time.Unix(1, 0), Keep: "kept"}
	}
	m := earlier()
	drift := decodeLenient([]byte(`{"s":null,"n":"x","l":null,"m":7,"in":"x","opt":5}`), &m, "")
	if len(drift) != 7 {
		t.Errorf("drift %v, want 7: s, n, l, m, in, opt and the missing when", drift)
	}
	want := model{Keep: "kept"} // an optional member the answer lacks keeps its value, as encoding/json keeps it
	if !reflect.DeepEqual(m, want) {
		t.Errorf("reused destination after drift = %+v, want %+v", m, want)
	}
}

// BenchmarkRequiredCheck compares, on a page of 100 rooms as ListRooms
// answers it, the check of required members (step=check) with what the
// fast path already does to every answer: encoding/json decoding it into the
// model (step=decode). Their ratio is the check's share of the decoding
// step; BenchmarkCallWithoutDrift shows it in a whole call.
func BenchmarkRequiredCheck(b *testing.B) {
	body := benchRoomsPage()
	type answer = struct {
		Paging *Paging `json:"paging,omitempty"`
		Rooms  []Room  `json:"rooms,omitempty"`
	}
	var sc shapeCache
	typ := reflect.TypeFor[*answer]()
	if !sc.of(typ).present(body) {
		b.Fatal("the page fails the check")
	}
	b.Run("step=decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var a answer
			if err := json.Unmarshal(body, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("step=check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !sc.of(typ).present(body) {
				b.Fatal("missing")
			}
		}
	})
}

// TestShapePresentEscapedNames: a member name written with JSON escapes
// ("\u0069d" is "id") is the member it names, as encoding/json reads it, so
// a complete answer stays on the fast path.
func TestShapePresentEscapedNames(t *testing.T) {
	sh := shapeOf(reflect.TypeFor[*requiredModel](), map[reflect.Type]*shape{})
	for _, body := range []string{`{"\u0069d":"r"}`, `{"id":"r","items":[{"n\u0061me":"a"}]}`} {
		if !sh.present([]byte(body)) {
			t.Errorf("present(%s) = false, want true", body)
		}
	}
}

// TestShapePresentBackslashBeforeQuote: a string that ends in an escaped
// backslash ("a\\") ends at its quote, so the members after it are read as
// members and a complete answer passes.
func TestShapePresentBackslashBeforeQuote(t *testing.T) {
	sh := shapeOf(reflect.TypeFor[*requiredModel](), map[reflect.Type]*shape{})
	for _, body := range []string{`{"note":"a\\","id":"r"}`, `{"note":"\\\\","items":[{"tag":"\\","name":"n"}],"id":"r"}`} {
		if !sh.present([]byte(body)) {
			t.Errorf("present(%s) = false, want true", body)
		}
	}
}
