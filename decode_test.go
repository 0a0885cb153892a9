package pagecall

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/internal/wire"
	"github.com/pplink/pagecall-go/pagecalltest"
)

// TestDecodeLenient: each kind of drift is left at its zero value and
// recorded at its JSON pointer, and everything else is decoded.
func TestDecodeLenient(t *testing.T) {
	type inner struct {
		A string    `json:"a"`
		T time.Time `json:"t,omitempty,omitzero"`
	}
	type model struct {
		Name   string            `json:"name"`
		Count  *int              `json:"count,omitempty"`
		When   time.Time         `json:"when,omitzero"`
		In     inner             `json:"in,omitzero"`
		List   []inner           `json:"list,omitempty"`
		Labels map[string]string `json:"labels,omitempty"`
		Opt    *inner            `json:"opt,omitempty"`
		Data   []byte            `json:"data,omitempty"`
	}
	seven := 7
	tests := []struct {
		name  string
		body  string
		want  model
		drift []string // pointers
	}{
		{"fits", `{"name":"n","count":7,"when":"2024-01-02T03:04:05Z"}`,
			model{Name: "n", Count: &seven, When: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}, nil},
		{"number for a string", `{"name":12,"count":7}`, model{Count: &seven}, []string{"/name"}},
		{"number for a date-time", `{"name":"n","when":1700000000}`, model{Name: "n"}, []string{"/when"}},
		{"text for a date-time", `{"name":"n","when":"yesterday"}`, model{Name: "n"}, []string{"/when"}},
		{"null for an optional object", `{"name":"n","opt":null}`, model{Name: "n"}, nil},
		{"text for an optional number", `{"name":"n","count":"seven"}`, model{Name: "n"}, []string{"/count"}},
		{"an optional object in part", `{"name":"n","opt":{"a":1,"t":"2024-01-02T03:04:05Z"}}`,
			model{Name: "n", Opt: &inner{T: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}}, []string{"/opt/a"}},
		{"number for an optional object", `{"name":"n","opt":3}`, model{Name: "n"}, []string{"/opt"}},
		{"one item of a list", `{"name":"n","list":[{"a":"x"},{"a":1},{"a":"z","t":"nope"}]}`,
			model{Name: "n", List: []inner{{A: "x"}, {}, {A: "z"}}}, []string{"/list/1/a", "/list/2/t"}},
		{"string for an object", `{"in":"x","name":"n"}`, model{Name: "n"}, []string{"/in"}},
		{"unknown fields", `{"name":"n","extra":{"deep":[1]}}`, model{Name: "n"}, nil},
		{"map value", `{"name":"n","labels":{"a/b":"x","c~d":3}}`, model{Name: "n", Labels: map[string]string{"a/b": "x", "c~d": ""}}, []string{"/labels/c~0d"}},
		{"not an object", `[1,2]`, model{}, []string{""}},
		{"bytes as base64, beside a drifted field", `{"data":"aGk=","name":1}`, model{Data: []byte("hi")}, []string{"/name"}},
		{"a required member missing", `{"count":7}`, model{Count: &seven}, []string{"/name"}},
		{"a required member missing in an item", `{"name":"n","list":[{"a":"x"},{"t":"2024-01-02T03:04:05Z"}]}`,
			model{Name: "n", List: []inner{{A: "x"}, {T: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}}}, []string{"/list/1/a"}},
		{"a required member in another case", `{"NAME":"n"}`, model{Name: "n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got model
			drift := decodeLenient([]byte(tt.body), &got, "")
			var ptrs []string
			for _, d := range drift {
				ptrs = append(ptrs, d.Pointer)
				if d.Reason == "" {
					t.Errorf("drift at %q has no reason", d.Pointer)
				}
			}
			if !reflect.DeepEqual(ptrs, tt.drift) {
				t.Errorf("drift at %q, want %q (%v)", ptrs, tt.drift, drift)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestDriftEveryField runs every operation of the spec (generatedOperations,
// generated from it, so `make spec-history` covers every version) against
// the mock's answer for the operation's example, with each scalar field of
// that answer in turn given the wrong JSON type, each required member
// removed, and each required list or map made null. Each call must succeed
// with one request, report drift at that field's pointer, and return every
// other field as the unaltered answer has it.
func TestDriftEveryField(t *testing.T) {
	for _, op := range generatedOperations {
		t.Run(op.operationID, func(t *testing.T) {
			srv := pagecalltest.NewTestServer(t)
			c0, err := NewClient(WithAPIKey(pagecalltest.APIKey), WithBaseURL(srv.URL()), WithMaxRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			ex, ok := srv.Example(op.operationID)
			if !ok {
				t.Fatalf("the mock has no operation %s", op.operationID)
			}
			out := callWithExample(t, t.Context(), c0, op.fn, ex)
			if err, _ := out[len(out)-1].Interface().(error); err != nil {
				t.Fatalf("%s against the mock: %v", op.operationID, err)
			}
			reqs := srv.Requests()
			if len(out) == 1 || len(reqs) != 1 {
				t.Skip("the operation returns no body")
			}
			var answer any
			if err := json.Unmarshal(reqs[0].Response, &answer); err != nil {
				t.Fatalf("the mock's answer %s: %v", reqs[0].Response, err)
			}

			var body atomic.Pointer[[]byte]
			var hits atomic.Int64
			drifting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.Write(*body.Load())
			}))
			defer drifting.Close()
			c, err := NewClient(WithAPIKey(pagecalltest.APIKey), WithBaseURL(drifting.URL+"/v1"), WithMaxRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			results := out[:len(out)-1]
			model := answerType(t, c, op.operationID)
			tried := 0
			for _, leaf := range append(scalarLeaves(answer, ""), requiredLeaves(answer, model, "")...) {
				drifted, _ := json.Marshal(setAt(answer, leaf.path, leaf.retyped))
				intact, _ := json.Marshal(setAt(answer, leaf.path, nil))
				if leaf.retyped != nil && leaf.retyped != jsonNull && json.Unmarshal(drifted, reflect.New(model).Interface()) == nil {
					continue // the model takes any JSON there (an object of free form, say)
				}
				tried++
				body.Store(&drifted)
				before := hits.Load()
				var info ResponseInfo
				got := callWithExample(t, t.Context(), c, op.fn, ex, WithResponseInfo(&info))
				if err, _ := got[len(got)-1].Interface().(error); err != nil {
					t.Errorf("%s retyped: %v; want success", leaf.pointer, err)
					continue
				}
				if n := hits.Load() - before; n != 1 {
					t.Errorf("%s retyped: %d requests, want 1", leaf.pointer, n)
				}
				if !slices.ContainsFunc(info.Drift, func(d FieldDrift) bool { return d.Pointer == leaf.pointer }) {
					t.Errorf("%s retyped: drift reported at %v, want it there", leaf.pointer, info.Drift)
				}
				checkIntact(t, got[:len(got)-1], results, intact, leaf)
			}
			t.Logf("%d fields drifted", tried)
		})
	}
}

// leaf is one scalar of a JSON answer and a value of another JSON type.
type leaf struct {
	path    []any // object keys and array indexes
	pointer string
	retyped any
}

// scalarLeaves lists the strings, numbers and booleans of v.
func scalarLeaves(v any, ptr string, path ...any) []leaf {
	var out []leaf
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			out = append(out, scalarLeaves(e, ptr+"/"+escapePointer(k), append(slices.Clone(path), k)...)...)
		}
	case []any:
		for i, e := range x {
			out = append(out, scalarLeaves(e, ptr+"/"+strconv.Itoa(i), append(slices.Clone(path), i)...)...)
		}
	case string:
		out = append(out, leaf{path, ptr, 12345})
	case float64:
		out = append(out, leaf{path, ptr, "not a number"})
	case bool:
		out = append(out, leaf{path, ptr, "not a boolean"})
	}
	return out
}

// jsonNull is the JSON null that requiredLeaves puts in place of a
// required list or map (setAt's nil removes a member).
var jsonNull any = nullJSON{}

// nullJSON marshals as null.
type nullJSON struct{}

func (nullJSON) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// requiredLeaves lists, for the JSON answer v decoded by the model type t,
// each member the model requires (removed: retyped nil) and each required
// list or map (made null).
func requiredLeaves(v any, t reflect.Type, ptr string, path ...any) []leaf {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []leaf
	switch x := v.(type) {
	case map[string]any:
		if t.Kind() == reflect.Map {
			for k, e := range x {
				out = append(out, requiredLeaves(e, t.Elem(), ptr+"/"+escapePointer(k), append(slices.Clone(path), k)...)...)
			}
			return out
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		for f := range t.Fields() {
			name, opts, ok := jsonField(f)
			e, present := x[name]
			if !ok || !present {
				continue
			}
			p, at := ptr+"/"+escapePointer(name), append(slices.Clone(path), name)
			if !optionalTag(opts) {
				out = append(out, leaf{at, p, nil})
				if k := f.Type.Kind(); k == reflect.Slice || k == reflect.Map {
					out = append(out, leaf{at, p, jsonNull})
				}
			}
			out = append(out, requiredLeaves(e, f.Type, p, at...)...)
		}
	case []any:
		if t.Kind() != reflect.Slice {
			return nil
		}
		for i, e := range x {
			out = append(out, requiredLeaves(e, t.Elem(), ptr+"/"+strconv.Itoa(i), append(slices.Clone(path), i)...)...)
		}
	}
	return out
}

// setAt returns a deep copy of v with the value at path replaced by to, or
// removed when to is nil.
func setAt(v any, path []any, to any) any {
	if len(path) == 0 {
		return to
	}
	switch x := v.(type) {
	case map[string]any:
		cp := maps.Clone(x)
		k := path[0].(string)
		if len(path) == 1 && to == nil {
			delete(cp, k)
		} else {
			cp[k] = setAt(x[k], path[1:], to)
		}
		return cp
	case []any:
		cp := slices.Clone(x)
		i := path[0].(int)
		cp[i] = setAt(x[i], path[1:], to)
		return cp
	}
	return v
}

// answerType returns the type of the generated 200 body of the operation,
// read from its XxxWithResponse method of the generated client.
func answerType(t *testing.T, c *Client, operationID string) reflect.Type {
	t.Helper()
	m, ok := reflect.TypeFor[*wire.ClientWithResponses]().MethodByName(operationID + "WithResponse")
	if !ok {
		t.Fatalf("the generated client has no %sWithResponse", operationID)
	}
	f, ok := m.Type.Out(0).Elem().FieldByName("JSON200")
	if !ok {
		t.Fatalf("%sResponse has no JSON200", operationID)
	}
	return f.Type.Elem()
}

// checkIntact checks that every result equals the unaltered answer with the
// retyped field removed, decoded into the result's type: the fields that
// fitted were all kept.
func checkIntact(t *testing.T, got, want []reflect.Value, intact []byte, l leaf) {
	t.Helper()
	pointer := l.pointer
	var props map[string]json.RawMessage
	_ = json.Unmarshal(intact, &props)
	for i, g := range got {
		// A result that is the retyped field itself (a top-level scalar)
		// is its zero value.
		ok := len(l.path) == 1 && g.IsZero()
		for _, raw := range append([]json.RawMessage{intact}, slices.Collect(maps.Values(props))...) {
			w := reflect.New(want[i].Type())
			if json.Unmarshal(raw, w.Interface()) == nil && reflect.DeepEqual(g.Interface(), w.Elem().Interface()) {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("%s retyped: returned %+v, want the other fields of %s intact", pointer, g.Interface(), intact)
		}
	}
}

// TestDriftReasons: a reason says what the model wanted and what came, with
// a short quote of a scalar.
func TestDriftReasons(t *testing.T) {
	type model struct {
		S string    `json:"s,omitempty"`
		N int       `json:"n"`
		B bool      `json:"b,omitempty"`
		T time.Time `json:"t,omitzero"`
		L []string  `json:"l,omitempty"`
		O struct{}  `json:"o,omitzero"`
		R string    `json:"r"`
	}
	tests := []struct{ body, want string }{
		{`{"n":1,"r":"","t":1700000000}`, "/t: want a date-time string, got number 1700000000"},
		{`{"n":1,"r":"","t":"yesterday"}`, `/t: want a date-time string, got string "yesterda…"`},
		{`{"n":1,"r":"","t":"today"}`, `/t: want a date-time string, got string "today"`},
		{`{"n":1,"r":"","s":-1.5}`, "/s: want a string, got number -1.5"},
		{`{"n":true,"r":""}`, "/n: want an integer, got boolean true"},
		{`{"n":1,"r":"","b":"yes"}`, `/b: want a boolean, got string "yes"`},
		{`{"n":1,"r":"","l":{}}`, "/l: want an array, got an object"},
		{`{"n":1,"r":"","o":[]}`, "/o: want an object, got an array"},
		{`{"n":1,"r":null}`, "/r: want a string, got null"},
		{`{"n":1}`, "/r: missing: the spec requires a string"},
		{`{"n":"` + strings.Repeat("x", 60) + `","r":""}`, `/n: want an integer, got string "xxxxxxxx…"`},
		{`{"n":` + strings.Repeat("9", 60) + `,"r":""}`, `/n: want an integer, got number ` + strings.Repeat("9", 40) + "…"},
		{`{"n":"日本語です","r":""}`, `/n: want an integer, got string "日本…"`},
	}
	for _, tt := range tests {
		var m model
		drift := decodeLenient([]byte(tt.body), &m, "")
		if len(drift) != 1 || drift[0].String() != tt.want {
			t.Errorf("%s: drift %v, want [%s]", tt.body, drift, tt.want)
		}
	}
}

// TestDriftReasonRedactsTheKeyInALongerString: a drifted string that holds
// the API key after other text ("a <key>") is quoted with the key redacted,
// not only a string that is the key and nothing else.
func TestDriftReasonRedactsTheKeyInALongerString(t *testing.T) {
	const key = "pk_live_0123456789abcdef"
	var m struct {
		T time.Time `json:"t"`
	}
	for _, text := range []string{"a " + key, key + " b", "Bearer " + key} {
		drift := decodeLenient([]byte(`{"t":"`+text+`"}`), &m, key)
		if len(drift) != 1 {
			t.Fatalf("%q: drift %v, want one at /t", text, drift)
		}
		reason := drift[0].Reason
		if !strings.Contains(reason, redacted) {
			t.Errorf("%q: reason %q, want the key redacted", text, reason)
		}
		for i := 0; i+4 <= len(key); i++ {
			if strings.Contains(reason, key[i:i+4]) {
				t.Errorf("%q: reason %q quotes %q of the key", text, reason, key[i:i+4])
				break
			}
		}
	}
}
