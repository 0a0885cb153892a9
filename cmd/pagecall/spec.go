package main

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/internal/contract"
	"github.com/pplink/pagecall-go/internal/overlay"
	"github.com/spf13/cobra"
)

// apiOp is one operation as the CLI sees it: the generated table's entry
// joined with the operation in the embedded spec, and the command it
// becomes.
type apiOp struct {
	cliOperation
	doc  *openapi3.T
	item *openapi3.PathItem
	op   *openapi3.Operation
	// resource and verb name the command: pagecall <resource> <verb>.
	resource, verb string
	// pathParams are the path parameters in path order: the positional
	// arguments. queryParams are the query parameters: flags.
	pathParams, queryParams []*openapi3.Parameter
	// body is the schema of the JSON request body; nil if there is none.
	body *openapi3.Schema
	// items is the schema of the items of a list answer, result of the
	// single resource of the others; either may be nil.
	items, result *openapi3.Schema
}

// loadDocument loads the embedded spec with the embedded overlay applied,
// as oapi-codegen saw it when it generated the SDK. Origins are kept: they
// give the document order of properties, which kin-openapi's maps lose.
func loadDocument() (*openapi3.T, error) {
	merged, err := specDocument(true)
	if err != nil {
		return nil, err
	}
	ld := openapi3.NewLoader()
	ld.IsExternalRefsAllowed = false // the embedded document is self-contained
	ld.IncludeOrigin = true
	doc, err := ld.LoadFromData(merged)
	if err != nil {
		return nil, fmt.Errorf("embedded spec: %w", err)
	}
	return doc, nil
}

// apiOps joins the generated table with doc's operations (by method and
// path) and names each operation's command. An operation in doc without a
// table entry, or the reverse, means operations.gen.go is stale: an error.
func apiOps(doc *openapi3.T, table []cliOperation, reserved map[string]bool) ([]*apiOp, error) {
	var ops []*apiOp
	tags := map[string]bool{}
	seen := map[string]bool{}
	for _, t := range table {
		item := doc.Paths.Value(t.path)
		var op *openapi3.Operation
		if item != nil {
			op = item.GetOperation(t.method)
		}
		if op == nil {
			return nil, fmt.Errorf("operations.gen.go lists %s %s, which the embedded spec lacks: run go generate", t.method, t.path)
		}
		seen[t.method+" "+t.path] = true
		for _, tag := range op.Tags {
			tags[tag] = true
		}
		o := &apiOp{cliOperation: t, doc: doc, item: item, op: op}
		o.pathParams, o.queryParams = parameters(t.path, item, op)
		o.body = jsonBody(op)
		o.items, o.result = answerSchemas(op)
		ops = append(ops, o)
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !seen[method+" "+path] {
				return nil, fmt.Errorf("the embedded spec has %s %s, which operations.gen.go lacks: run go generate", method, path)
			}
		}
	}
	nameCommands(ops, slices.Sorted(maps.Keys(tags)), reserved)
	return ops, nil
}

// parameters returns the path parameters of an operation in the order of
// its path template, and its query parameters in the order declared. An
// operation's own parameter overrides its path item's of the same name and
// location.
func parameters(path string, item *openapi3.PathItem, op *openapi3.Operation) (pathParams, query []*openapi3.Parameter) {
	var all []*openapi3.Parameter
	for _, ref := range append(slices.Clone(item.Parameters), op.Parameters...) {
		if ref == nil || ref.Value == nil {
			continue
		}
		p := ref.Value
		if i := slices.IndexFunc(all, func(q *openapi3.Parameter) bool { return q.In == p.In && q.Name == p.Name }); i >= 0 {
			all[i] = p
			continue
		}
		all = append(all, p)
	}
	for _, name := range contract.PathParamNames(path) {
		i := slices.IndexFunc(all, func(q *openapi3.Parameter) bool { return q.In == openapi3.ParameterInPath && q.Name == name })
		if i < 0 { // undeclared: a plain string
			pathParams = append(pathParams, &openapi3.Parameter{Name: name, In: openapi3.ParameterInPath,
				Required: true, Schema: openapi3.NewStringSchema().NewRef()})
			continue
		}
		pathParams = append(pathParams, all[i])
	}
	for _, p := range all {
		if p.In == openapi3.ParameterInQuery {
			query = append(query, p)
		}
	}
	return pathParams, query
}

// jsonBody returns the schema of an operation's JSON request body, nil if
// it takes none.
func jsonBody(op *openapi3.Operation) *openapi3.Schema {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
		return mt.Schema.Value
	}
	return nil
}

// answerSchemas returns, from the 200 JSON answer, the schema of the items
// of its one array property (a list), or of its one other property (a
// single resource), as the SDK's methods return them; a `paging` beside
// it does not count.
func answerSchemas(op *openapi3.Operation) (items, result *openapi3.Schema) {
	resp := op.Responses.Status(200)
	if resp == nil || resp.Value == nil {
		return nil, nil
	}
	mt := resp.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, nil
	}
	var main *openapi3.SchemaRef
	for name, p := range mt.Schema.Value.Properties {
		if name == "paging" {
			continue
		}
		if main != nil {
			return nil, mt.Schema.Value // several: the whole body
		}
		main = p
	}
	if main == nil || main.Value == nil {
		return nil, mt.Schema.Value
	}
	if main.Value.Type.Is(openapi3.TypeArray) && main.Value.Items != nil {
		return main.Value.Items.Value, nil
	}
	return nil, main.Value
}

// orderedProperties returns the names of s's properties in document order
// (by their origin in the document; by name where it is unknown).
func orderedProperties(s *openapi3.Schema) []string {
	names := slices.Sorted(maps.Keys(s.Properties))
	line := func(name string) int {
		if o := s.Properties[name].Origin; o != nil && o.Key != nil {
			return o.Key.Line
		}
		return 0
	}
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(line(a), line(b)) })
	return names
}

// newSpecCmd is "pagecall spec": the embedded OpenAPI document, as
// published or with the overlay applied, for other OpenAPI tools.
func newSpecCmd(e *env) *cobra.Command {
	var overlaid bool
	var output string
	cmd := &cobra.Command{
		Use:   "spec [flags]",
		Short: "Write the OpenAPI document this SDK was generated from",
		Long: `Write the embedded OpenAPI document: as Pagecall published it
(api/openapi.yaml), or with --overlaid, with the project's overlay
(api/overlay.yaml) applied: the document the SDK, the CLI and the mock were
generated from and check against. The output is YAML, the same bytes for the
same pagecall version, ready for other OpenAPI tools (a mock server, another
code generator, a validator).`,
		Example: `  pagecall spec --overlaid > pagecall-openapi.yaml
  pagecall spec --overlaid --output pagecall-openapi.yaml
  npx @stoplight/prism-cli mock pagecall-openapi.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			doc, err := specDocument(overlaid)
			if err != nil {
				return withCode(exitFailure, err)
			}
			if output == "" {
				_, err = e.Stdout.Write(doc)
			} else {
				err = os.WriteFile(output, doc, 0o644)
			}
			if err != nil {
				return withCode(exitFailure, fmt.Errorf("spec: %w", err))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&overlaid, "overlaid", false, "apply api/overlay.yaml: the document the SDK was generated from")
	cmd.Flags().StringVar(&output, "output", "", "write to this file (default: stdout)")
	return cmd
}

// specDocument returns the embedded spec, with the embedded overlay applied
// when overlaid is set.
func specDocument(overlaid bool) ([]byte, error) {
	if !overlaid {
		return api.OpenAPI, nil
	}
	merged, err := overlay.Apply(api.OpenAPI, api.Overlay)
	if err != nil {
		return nil, fmt.Errorf("embedded spec: %w", err)
	}
	return merged, nil
}
