package pagecall

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pplink/pagecall-go/pagecalltest"
)

// generatedOperation is one entry of generatedOperations
// (operations.gen_test.go): an operation of the spec and its generated
// method, as a method expression.
type generatedOperation struct {
	operationID, method, path string
	fn                        any
}

// TestConformance calls every generated method against the spec-validating
// mock, with arguments built from the spec's examples, and checks that the
// mock received exactly one request, routed to the operation and valid for
// the spec (the mock answers 400 to anything else), and that the method
// returned what the answer carried. `make spec-history` runs it on every
// published spec version, so every method each version generates is
// exercised on the wire.
func TestConformance(t *testing.T) {
	probe := pagecalltest.NewTestServer(t)
	if got, want := len(generatedOperations), len(probe.Operations()); got != want {
		t.Errorf("%d generated methods for %d operations in the spec", got, want)
	}
	for _, op := range generatedOperations {
		t.Run(op.operationID, func(t *testing.T) {
			srv := pagecalltest.NewTestServer(t) // a fresh store for each
			c, err := NewClient(WithAPIKey(pagecalltest.APIKey), WithBaseURL(srv.URL()), WithMaxRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			ex, ok := srv.Example(op.operationID)
			if !ok {
				t.Fatalf("the mock has no operation %s", op.operationID)
			}
			if ex.Method != op.method || ex.Path != op.path {
				t.Fatalf("generated for %s %s, the spec has %s %s", op.method, op.path, ex.Method, ex.Path)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			out := callWithExample(t, ctx, c, op.fn, ex)
			if err, _ := out[len(out)-1].Interface().(error); err != nil {
				t.Fatalf("%s: %v", op.operationID, err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Route != op.method+" "+op.path || r.Status != 200 {
				t.Fatalf("request routed to %q, answered %d (%s); want %s %s, 200", r.Route, r.Status, r.Response, op.method, op.path)
			}
			if len(out) > 1 {
				checkDecoded(t, out[:len(out)-1], r.Response)
			}
			if seq := reflect.ValueOf(c).MethodByName(op.operationID + "Seq"); seq.IsValid() {
				checkSeq(t, ctx, seq, ex, out[0].Len())
			}
		})
	}
}

// callWithExample calls the method expression fn on c with ctx, the
// example's path values, its body decoded into the method's body type and
// its query decoded into the method's params type, and returns the results.
func callWithExample(t *testing.T, ctx context.Context, c *Client, fn any, ex pagecalltest.Example, opts ...CallOption) []reflect.Value {
	t.Helper()
	fv := reflect.ValueOf(fn)
	args := argsFor(t, ctx, c, fv.Type(), ex)
	for _, o := range opts {
		args = append(args, reflect.ValueOf(o))
	}
	return fv.Call(args)
}

// argsFor builds the arguments of a method expression of type ft from the
// example, as callWithExample describes, without the call options.
func argsFor(t *testing.T, ctx context.Context, c *Client, ft reflect.Type, ex pagecalltest.Example) []reflect.Value {
	t.Helper()
	args := []reflect.Value{reflect.ValueOf(c), reflect.ValueOf(ctx)}
	for _, v := range ex.PathValues {
		args = append(args, reflect.ValueOf(v))
	}
	nin := fixedArgs(ft)
	for i := len(args); i < nin; i++ {
		in := ft.In(i)
		isParams := in.Kind() == reflect.Pointer && strings.HasSuffix(in.Elem().Name(), "Params")
		var src []byte
		if isParams {
			src, _ = json.Marshal(ex.Query)
		} else {
			src = ex.Body
		}
		p := reflect.New(in)
		if isParams {
			p = reflect.New(in.Elem())
		}
		if err := json.Unmarshal(src, p.Interface()); err != nil {
			t.Fatalf("decoding %s into %s: %v", src, in, err)
		}
		if isParams {
			args = append(args, p)
		} else {
			args = append(args, p.Elem())
		}
	}
	if len(args) != nin {
		t.Fatalf("%s takes %d arguments, the example gives %d", ft, nin, len(args))
	}
	return args
}

// fixedArgs is the number of arguments of ft before its trailing
// ...CallOption.
func fixedArgs(ft reflect.Type) int {
	if ft.IsVariadic() {
		return ft.NumIn() - 1
	}
	return ft.NumIn()
}

// checkDecoded checks that each result equals some property of the answer
// (or the whole answer) decoded into the result's type: the method returned
// the right part of the answer, fully decoded.
func checkDecoded(t *testing.T, results []reflect.Value, answer []byte) {
	t.Helper()
	var props map[string]json.RawMessage
	if err := json.Unmarshal(answer, &props); err != nil {
		t.Fatalf("answer %s: %v", answer, err)
	}
	candidates := [][]byte{answer}
	for _, raw := range props {
		candidates = append(candidates, raw)
	}
	for _, got := range results {
		found := false
		for _, raw := range candidates {
			want := reflect.New(got.Type())
			if json.Unmarshal(raw, want.Interface()) == nil && reflect.DeepEqual(got.Interface(), want.Elem().Interface()) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("returned %s %+v, which is no part of the answer %s", got.Type(), got.Interface(), answer)
		}
	}
}

// checkSeq runs the method's iterator with the same example and checks that
// it yields as many items as the list call returned, without error.
func checkSeq(t *testing.T, ctx context.Context, seq reflect.Value, ex pagecalltest.Example, want int) {
	t.Helper()
	var args []reflect.Value
	args = append(args, reflect.ValueOf(ctx))
	for _, v := range ex.PathValues {
		args = append(args, reflect.ValueOf(v))
	}
	if fixedArgs(seq.Type()) > len(args) {
		args = append(args, reflect.Zero(seq.Type().In(len(args)))) // nil params
	}
	n := 0
	for _, err := range seq.Call(args)[0].Seq2() {
		if e, _ := err.Interface().(error); e != nil {
			t.Fatalf("iterator: %v", e)
		}
		n++
	}
	if n != want {
		t.Errorf("iterator yielded %d items, the list call returned %d", n, want)
	}
}

// handWritten are the methods of Client that take a context but belong to
// no operation of the spec.
var handWritten = map[string]bool{"Do": true}

// Ensure the table covers every method: a generated method missing from it
// would go untested.
func TestConformanceTableIsComplete(t *testing.T) {
	listed := map[string]bool{}
	for _, op := range generatedOperations {
		listed[op.operationID] = true
	}
	ct := reflect.TypeOf(&Client{})
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		name := strings.TrimSuffix(m.Name, "Seq")
		in := m.Type
		// Generated methods take a context first and return an error last.
		if in.NumIn() < 2 || in.In(1) != reflect.TypeFor[context.Context]() || name != m.Name || handWritten[name] {
			continue
		}
		if !listed[name] {
			t.Errorf("method %s takes a context but is not in generatedOperations", name)
		}
	}
}
