package pagecalltest

import (
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestSuccessResponseIsTheLowest2xx: the mock answers an operation with its
// lowest documented 2xx status, and a 3xx is no success. The published
// spec gives every operation one 2xx, so only a document with several
// (a later version, or WithSpec) shows it.
func TestSuccessResponseIsTheLowest2xx(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codes []int
		want  int
	}{
		{"lowest of three 2xx", []int{204, 201, 200}, http.StatusOK},
		{"lowest of two 2xx", []int{202, 201}, http.StatusCreated},
		{"300 is no success", []int{300}, http.StatusOK}, // falls back to 200 and "default"
		{"300 beside a 2xx", []int{300, 202}, http.StatusAccepted},
		{"299 is", []int{299}, 299},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Map order is random: try enough times that every order is seen.
			for range 20 {
				if got, _ := successResponse(operationAnswering(tc.codes)); got != tc.want {
					t.Fatalf("codes %v: status %d, want %d", tc.codes, got, tc.want)
				}
			}
		})
	}
}

// TestErrorStatusIsNotFoundElseTheLowest4xx: for an unknown resource the
// mock answers 404 when the operation documents it, else the lowest
// documented 4xx (400 included), else 404.
func TestErrorStatusIsNotFoundElseTheLowest4xx(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codes []int
		want  int
	}{
		{"404 documented", []int{400, 404}, http.StatusNotFound},
		{"400 is the lowest 4xx", []int{403, 401, 400}, http.StatusBadRequest},
		{"lowest of two", []int{422, 409}, http.StatusConflict},
		{"499 is a 4xx", []int{499}, 499},
		{"5xx are not", []int{500, 503}, http.StatusNotFound},
		{"nothing documented", nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 { // every map order
				if got := errorStatus(operationAnswering(tc.codes)); got != tc.want {
					t.Fatalf("codes %v: status %d, want %d", tc.codes, got, tc.want)
				}
			}
		})
	}
}

// operationAnswering returns an operation that documents the given
// statuses, each with a description of its own.
func operationAnswering(codes []int) *openapi3.Operation {
	var opts []openapi3.NewResponsesOption
	for _, c := range codes {
		desc := "x"
		opts = append(opts, openapi3.WithStatus(c, &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc}}))
	}
	return &openapi3.Operation{Responses: openapi3.NewResponses(opts...)}
}

// TestPathParametersAreUnescaped: a user ID is unescaped from the path
// before the store looks it up, so /users/a%20b is the user "a b" and
// /users/50%25 the user "50%".
func TestPathParametersAreUnescaped(t *testing.T) {
	for _, tc := range []struct{ id, path string }{
		{"a b", "/users/a%20b"},
		{"50%", "/users/50%25"},
		{"ü", "/users/%C3%BC"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			c := client{t, NewTestServer(t)}
			c.s.AddUser(tc.id, nil)
			if status, _ := c.do(http.MethodGet, tc.path, ""); status != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200 for the user %q", tc.path, status, tc.id)
			}
			if status, _ := c.do(http.MethodDelete, tc.path, ""); status/100 != 2 {
				t.Fatalf("DELETE %s: status %d, want 2xx", tc.path, status)
			}
			if c.s.UserExists(tc.id) {
				t.Errorf("DELETE %s left the user %q in the store", tc.path, tc.id)
			}
		})
	}
}

// TestRequestFieldsKeepWhatCombinedSchemasDeclare: a request schema built
// from parts (allOf, oneOf, anyOf) declares the properties of each part,
// so requestFields keeps those and drops only what no part declares. The
// published document uses no combinator; a document given to WithSpec may.
func TestRequestFieldsKeepWhatCombinedSchemasDeclare(t *testing.T) {
	obj := func(names ...string) *openapi3.SchemaRef {
		s := openapi3.NewObjectSchema()
		for _, n := range names {
			s.WithProperty(n, openapi3.NewStringSchema())
		}
		return s.NewRef()
	}
	for _, tt := range []struct {
		name   string
		schema *openapi3.Schema
	}{
		{"allOf", &openapi3.Schema{AllOf: openapi3.SchemaRefs{obj("name"), obj("type")}}},
		{"oneOf", &openapi3.Schema{OneOf: openapi3.SchemaRefs{obj("name"), obj("type")}}},
		{"anyOf", &openapi3.Schema{AnyOf: openapi3.SchemaRefs{obj("name"), obj("type")}}},
	} {
		op := &openapi3.Operation{RequestBody: &openapi3.RequestBodyRef{
			Value: openapi3.NewRequestBody().WithJSONSchema(tt.schema),
		}}
		got := requestFields(op, map[string]any{"name": "n", "type": "public", "id": "forged"})
		if len(got) != 2 || got["name"] != "n" || got["type"] != "public" {
			t.Errorf("%s: kept %v, want name and type (each declared by a part), not id", tt.name, got)
		}
	}
}
