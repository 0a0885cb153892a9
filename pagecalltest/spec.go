package pagecalltest

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/pplink/pagecall-go/internal/overlay"
)

// spec is a loaded OpenAPI document with the overlay applied, ready to route
// and validate requests.
type spec struct {
	doc      *openapi3.T
	router   routers.Router
	basePath string // path of the first server URL, e.g. "/v1"; "" for none
}

// loadSpec applies overlayDoc to openapiDoc the way oapi-codegen does when it
// generates the client (package overlay: speakeasy's overlay library on a
// yaml.Node, in non-strict mode, so an erratum Pagecall fixed upstream simply
// stops matching) and loads the result with kin-openapi.
//
// The document's servers are replaced by one relative server holding only the
// base path: the mock answers on a loopback address, never on
// api.pagecall.com, and kin-openapi's routers match a relative server against
// the request path alone.
func loadSpec(openapiDoc, overlayDoc []byte) (*spec, error) {
	merged, err := overlay.Apply(openapiDoc, overlayDoc)
	if err != nil {
		return nil, fmt.Errorf("pagecalltest: %w", err)
	}

	ld := openapi3.NewLoader()
	// The embedded document is self-contained; refusing external references
	// keeps the mock from reading files or the network because of a $ref.
	ld.IsExternalRefsAllowed = false
	doc, err := ld.LoadFromData(merged)
	if err != nil {
		return nil, fmt.Errorf("pagecalltest: load OpenAPI document: %w", err)
	}
	if doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, errors.New("pagecalltest: OpenAPI document declares no paths")
	}

	basePath := ""
	if len(doc.Servers) > 0 {
		u, err := url.Parse(doc.Servers[0].URL)
		if err != nil {
			return nil, fmt.Errorf("pagecalltest: server URL: %w", err)
		}
		basePath = strings.TrimSuffix(u.Path, "/")
	}
	doc.Servers = nil
	if basePath != "" {
		doc.Servers = openapi3.Servers{{URL: basePath}}
	}

	// The legacy router, not gorillamux: it needs no extra module and reports
	// "path not found" and "method not allowed" apart. Examples are not
	// validated at load: a published document with one bad example must
	// still be served (the generator falls back to the schema for it).
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("pagecalltest: build router: %w", err)
	}
	return &spec{doc: doc, router: router, basePath: basePath}, nil
}

// operations returns every operation of the document as routes, in a stable
// order (path, then method).
func (s *spec) operations() []*routers.Route {
	var out []*routers.Route
	paths := s.doc.Paths.Map()
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		item := paths[p]
		ops := item.Operations()
		for _, m := range slices.Sorted(maps.Keys(ops)) {
			out = append(out, &routers.Route{Spec: s.doc, Path: p, PathItem: item, Method: m, Operation: ops[m]})
		}
	}
	return out
}

// Example is a valid request for one operation, built from the document:
// each parameter's example (or a value sampled from its schema) and a body
// sampled from the request body's schema.
type Example struct {
	// Method and Path are the operation's method and path template, e.g.
	// "GET" and "/rooms/{id}".
	Method, Path string
	// PathValues are the values of the path parameters, in path order.
	PathValues []string
	// Query holds the query parameters that are required or have an
	// example.
	Query map[string]any
	// Body is the JSON request body, nil if the operation takes none.
	Body []byte
}

// Example returns a valid request for the operation with this operationId
// (compared without regard to case): what the conformance tests send to
// every operation the document has. The path values name the objects the
// server was seeded with, and so does every user_id in the body (the
// document's examples name users it does not describe, and a room's
// members must be users that exist). ok is false if there is no such
// operation.
func (s *Server) Example(operationID string) (ex Example, ok bool) {
	for _, route := range s.spec.operations() {
		if !strings.EqualFold(route.Operation.OperationID, operationID) {
			continue
		}
		ex = Example{Method: route.Method, Path: route.Path, Query: map[string]any{}}
		byName := map[string]*openapi3.Parameter{}
		for _, ref := range append(slices.Clone(route.PathItem.Parameters), route.Operation.Parameters...) {
			if ref.Value != nil {
				byName[ref.Value.In+" "+ref.Value.Name] = ref.Value
			}
		}
		value := func(p *openapi3.Parameter) any {
			if p.Example != nil {
				return p.Example
			}
			return sample(p.Schema)
		}
		for _, m := range pathParamPattern.FindAllStringSubmatch(route.Path, -1) {
			if p := byName[openapi3.ParameterInPath+" "+m[1]]; p != nil {
				ex.PathValues = append(ex.PathValues, fmt.Sprint(value(p)))
			}
		}
		for _, p := range byName {
			if p.In == openapi3.ParameterInQuery && (p.Required || p.Example != nil) {
				ex.Query[p.Name] = value(p)
			}
		}
		if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil {
			if sc := jsonBodySchema(rb.Value.Content); sc != nil {
				s.mu.Lock()
				seed := s.store.seedUser
				s.mu.Unlock()
				ex.Body = mustJSON(withUser(sample(sc), seed))
			}
		}
		return ex, true
	}
	return Example{}, false
}

// withUser sets every string user_id in the JSON value v to id, and returns
// v. An empty id changes nothing.
func withUser(v any, id string) any {
	if id == "" {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if _, ok := e.(string); ok && k == "user_id" {
				v[k] = id
			} else {
				withUser(e, id)
			}
		}
	case []any:
		for _, e := range v {
			withUser(e, id)
		}
	}
	return v
}
