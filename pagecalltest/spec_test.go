package pagecalltest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// TestEveryOperationAnswersSpecValid sends a valid request to every
// operation of the embedded document (whatever it holds: CI swaps in every
// published version) and checks the answer with ValidateResponse.
func TestEveryOperationAnswersSpecValid(t *testing.T) {
	probe := NewTestServer(t)
	ops := probe.spec.operations()
	if len(ops) == 0 {
		t.Fatal("the document has no operations")
	}
	for _, route := range ops {
		t.Run(route.Method+" "+route.Path, func(t *testing.T) {
			s := NewTestServer(t) // fresh store: DeleteUser must not starve GetUser
			req, params := validRequest(t, s, route)
			resp, body := roundTrip(t, req)
			want, _ := successResponse(route.Operation)
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, want, body)
			}
			checkResponse(t, req, params, route, resp, body)
		})
	}
}

// checkResponse fails t unless resp (whose body was read into body) is a
// valid answer to req on route for the document.
func checkResponse(t *testing.T, req *http.Request, params map[string]string, route *routers.Route, resp *http.Response, body []byte) {
	t.Helper()
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
		},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Fatalf("%s %s: response is not valid for the document: %v\nbody: %s", req.Method, req.URL.Path, err, body)
	}
}

// validRequest builds an authenticated request to route from the server's
// Example for it.
func validRequest(t *testing.T, s *Server, route *routers.Route) (*http.Request, map[string]string) {
	t.Helper()
	ex, ok := s.Example(route.Operation.OperationID)
	if !ok {
		t.Fatalf("no example for %s", route.Operation.OperationID)
	}
	path := route.Path
	params := map[string]string{}
	for i, m := range pathParamPattern.FindAllStringSubmatch(route.Path, -1) {
		params[m[1]] = ex.PathValues[i]
		path = strings.ReplaceAll(path, m[0], url.PathEscape(ex.PathValues[i]))
	}
	query := url.Values{}
	for k, v := range ex.Query {
		query.Set(k, fmt.Sprint(v))
	}
	u := s.URL() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if ex.Body != nil {
		body = bytes.NewReader(ex.Body)
	}
	req, err := http.NewRequest(route.Method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+APIKey)
	return req, params
}

// TestSampleIsValidForEveryComponentSchema checks the generator on its own:
// whatever the document declares, the sampled value satisfies its schema.
func TestSampleIsValidForEveryComponentSchema(t *testing.T) {
	s := NewTestServer(t)
	if s.spec.doc.Components == nil {
		t.Skip("no components")
	}
	for name, ref := range s.spec.doc.Components.Schemas {
		v := sample(ref)
		if err := ref.Value.VisitJSON(v); err != nil {
			t.Errorf("schema %s: sample %v is invalid: %v", name, v, err)
		}
	}
}

// TestSampleFallsBackFromInvalidExample checks that an example that breaks
// its own schema (as "#DEPRECATED#" on booleans did) is not served.
func TestSampleFallsBackFromInvalidExample(t *testing.T) {
	tests := []struct {
		name   string
		schema *openapi3.Schema
		want   any
	}{
		{"boolean with string example", &openapi3.Schema{Type: &openapi3.Types{"boolean"}, Example: "#DEPRECATED#"}, false},
		{"date-time without example", &openapi3.Schema{Type: &openapi3.Types{"string"}, Format: "date-time"}, "2023-01-01T01:00:00Z"},
		{"enum takes first", &openapi3.Schema{Type: &openapi3.Types{"string"}, Enum: []any{"guest", "host"}}, "guest"},
		{"valid example kept", &openapi3.Schema{Type: &openapi3.Types{"string"}, Example: "scotty"}, "scotty"},
		{"integer minimum", &openapi3.Schema{Type: &openapi3.Types{"integer"}, Min: openapi3.Ptr(3.0)}, 3.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sample(openapi3.NewSchemaRef("", tt.schema)); got != tt.want {
				t.Errorf("sample = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestErrorAnswersAreDeclared sends every operation of the embedded
// document the requests the mock refuses (no key, a wrong key, an unknown
// object, a malformed body, a body over the limit) and checks each answer
// with ValidateResponse, status included: the mock answers only statuses
// the operation declares.
func TestErrorAnswersAreDeclared(t *testing.T) {
	// Refused requests change nothing, so two servers serve every case:
	// one as configured by default, one with a small body limit.
	s, small := NewTestServer(t), NewTestServer(t)
	small.maxBody = 32 // before any request
	type refusal struct {
		name    string
		srv     *Server
		refused bool // the answer must be a 4xx
		edit    func(req *http.Request, params map[string]string)
	}
	for _, route := range s.spec.operations() {
		cases := []refusal{
			{"no key", s, true, func(req *http.Request, _ map[string]string) { req.Header.Del("Authorization") }},
			{"wrong key", s, true, func(req *http.Request, _ map[string]string) { req.Header.Set("Authorization", "Bearer nope") }},
		}
		if strings.Contains(route.Path, "{") {
			// Not every operation looks its objects up (the mock answers
			// those it does not model from the document), so only the
			// status is checked here.
			cases = append(cases, refusal{"unknown object", s, false, func(req *http.Request, params map[string]string) {
				for k, v := range params {
					req.URL.Path = strings.Replace(req.URL.Path, "/"+v, "/nobody-"+k, 1)
					params[k] = "nobody-" + k
				}
			}})
		}
		if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil && jsonBodySchema(rb.Value.Content) != nil {
			cases = append(cases,
				refusal{"malformed body", s, true, func(req *http.Request, _ map[string]string) {
					req.Body, req.ContentLength = io.NopCloser(strings.NewReader("{")), 1
				}},
				refusal{"body over the limit", small, true, func(req *http.Request, _ map[string]string) {
					big := `{"name":"` + strings.Repeat("x", 64) + `"}`
					req.Body, req.ContentLength = io.NopCloser(strings.NewReader(big)), int64(len(big))
				}},
			)
		}
		for _, tc := range cases {
			t.Run(route.Method+" "+route.Path+" "+tc.name, func(t *testing.T) {
				req, params := validRequest(t, tc.srv, route)
				tc.edit(req, params)
				resp, body := roundTrip(t, req)
				if tc.refused && (resp.StatusCode < 400 || resp.StatusCode >= 500) {
					t.Fatalf("status %d, want a refusal; body %s", resp.StatusCode, body)
				}
				checkResponse(t, req, params, route, resp, body)
			})
		}
	}
}

// TestAuthStatusFollowsDocument checks that a refused key gets the status
// the operation declares for it: 401 where declared, else the 4xx whose
// description speaks of authentication, else the lowest 4xx.
func TestAuthStatusFollowsDocument(t *testing.T) {
	resp := func(codes ...string) *openapi3.Operation {
		op := &openapi3.Operation{Responses: openapi3.NewResponses()}
		for _, c := range codes {
			code, desc, _ := strings.Cut(c, " ")
			op.Responses.Set(code, &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(desc)})
		}
		return op
	}
	tests := []struct {
		name string
		op   *openapi3.Operation
		want int
	}{
		{"Pagecall's 400", resp("200 OK", "400 Invalid Parameters Supplied or Unauthenticated or Unauthorized", "500 Validation exception"), 400},
		{"401 declared", resp("200 OK", "400 Bad input", "401 No key"), 401},
		{"4XX range declared", resp("200 OK", "4XX Client error"), 401},
		{"default declared", resp("200 OK", "default Error"), 401},
		{"auth described on 403", resp("200 OK", "400 Bad input", "403 Unauthorized"), 403},
		{"lowest 4xx otherwise", resp("200 OK", "422 Bad input", "409 Conflict"), 409},
		{"no 4xx at all", resp("200 OK"), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authStatus(tt.op); got != tt.want {
				t.Errorf("authStatus = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestInjected401StillPossible checks that a test can still see a 401 from
// the mock by asking for it, although the document does not declare it.
func TestInjected401StillPossible(t *testing.T) {
	s := NewTestServer(t)
	s.Inject(Fault{Status: http.StatusUnauthorized})
	route := s.spec.operations()[0]
	req, _ := validRequest(t, s, route)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want the injected 401", resp.StatusCode)
	}
}

// roundTrip sends req and returns the answer with its body read and closed.
func roundTrip(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
