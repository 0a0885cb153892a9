package pagecalltest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/speakeasy-api/openapi/overlay/loader"
	"gopkg.in/yaml.v3"
)

// spec is a loaded OpenAPI document with the overlay applied, ready to route
// and validate requests.
type spec struct {
	doc      *openapi3.T
	router   routers.Router
	basePath string // path of the first server URL, e.g. "/v1"; "" for none
}

// loadSpec applies overlayDoc to openapiDoc the way oapi-codegen does when it
// generates the client (speakeasy's overlay library on a yaml.Node, in
// non-strict mode, so an erratum Pagecall fixed upstream simply stops
// matching) and loads the result with kin-openapi.
//
// The document's servers are replaced by one relative server holding only the
// base path: the mock answers on a loopback address, never on
// api.pagecall.com, and kin-openapi's routers match a relative server against
// the request path alone.
func loadSpec(openapiDoc, overlayDoc []byte) (*spec, error) {
	merged := openapiDoc
	if len(bytes.TrimSpace(overlayDoc)) > 0 {
		var root yaml.Node
		if err := yaml.Unmarshal(openapiDoc, &root); err != nil {
			return nil, fmt.Errorf("pagecalltest: parse OpenAPI document: %w", err)
		}
		ov, err := loader.LoadOverlayFromReader(bytes.NewReader(overlayDoc))
		if err != nil {
			return nil, fmt.Errorf("pagecalltest: %w", err)
		}
		if err := ov.Validate(); err != nil {
			return nil, fmt.Errorf("pagecalltest: invalid overlay: %w", err)
		}
		if err := ov.ApplyTo(&root); err != nil {
			return nil, fmt.Errorf("pagecalltest: apply overlay: %w", err)
		}
		if merged, err = yaml.Marshal(&root); err != nil {
			return nil, fmt.Errorf("pagecalltest: serialize overlaid document: %w", err)
		}
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
