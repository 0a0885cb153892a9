package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/codegen"
	"github.com/oapi-codegen/oapi-codegen/v2/pkg/util"
	"gopkg.in/yaml.v3"

	"github.com/pplink/pagecall-go/internal/wirenames"
)

// genConfig is oapi-codegen's configuration file, gen/config.yaml.
const genConfig = "gen/config.yaml"

// operation is one operation of an OpenAPI document, as the SDK sees it.
type operation struct {
	Method string // upper case, e.g. DELETE
	Path   string // as the document writes it, e.g. /users/{user_id}
	ID     string // operationId as written; "" when there is none
	// GoName is the name oapi-codegen gives the operation: the generated
	// client's methods are GoName (on gen.Client) and GoName+"WithResponse"
	// (on gen.ClientWithResponses), and its types start with it.
	GoName string
	// spec holds the operation's definition by top-level key (parameters,
	// requestBody, responses, ...), as canonical JSON with local $refs
	// expanded, the path item's parameters included under "parameters".
	spec map[string]string
	// goAPI holds what a caller of the generated client sees of the
	// operation: the ClientWithResponses methods' signatures without
	// parameter names, and every generated type they reach, by Go name,
	// whitespace- and comment-insensitive.
	goAPI map[string]string
}

// key is how operations of two versions are matched: the method and the
// path with parameter names left out, as the URL on the wire has none
// (oasdiff matches endpoints the same way).
func (o *operation) key() string { return o.Method + " " + pathParam.ReplaceAllString(o.Path, "{}") }

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// inventory lists the operations of the document at specPath as root's
// oapi-codegen configuration generates them: the document is loaded and
// overlaid by oapi-codegen's own loader, the client is generated in memory
// by its codegen package, and the operations are named by that package's
// OperationDefinitions, so the names are the generated code's by
// construction (TestInventoryMatchesGen checks them against internal/wire).
//
// codegen keeps its options in package state that Generate sets, so
// inventory must not run concurrently with itself. It also returns the
// generated source, which is what go generate writes to internal/wire.
func inventory(root, specPath string) ([]operation, string, error) {
	data, err := os.ReadFile(filepath.Join(root, genConfig))
	if err != nil {
		return nil, "", err
	}
	// The shape oapi-codegen's command reads its -config file into.
	var cfg struct {
		codegen.Configuration `yaml:",inline"`
		Output                string `yaml:"output"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, "", fmt.Errorf("%s: %w", genConfig, err)
	}
	opts := cfg.UpdateDefaults()
	if err := opts.Validate(); err != nil {
		return nil, "", fmt.Errorf("%s: %w", genConfig, err)
	}
	load := func() (*openapi3.T, error) {
		lo := util.LoadSwaggerWithOverlayOpts{
			Strict: true,
			// Refuse every remote $ref: nothing here may reach the network.
			AllowRemoteRefsFrom: []string{},
		}
		if p := opts.OutputOptions.Overlay.Path; p != "" {
			lo.Path = filepath.Join(root, p)
		}
		if s := opts.OutputOptions.Overlay.Strict; s != nil {
			lo.Strict = *s
		}
		return util.LoadSwaggerWithOverlay(specPath, lo)
	}
	doc, err := load()
	if err != nil {
		return nil, "", err
	}
	spec, err := json.Marshal(doc)
	if err != nil {
		return nil, "", err
	}
	code, err := codegen.Generate(doc, opts)
	if err != nil {
		return nil, "", fmt.Errorf("generate from %s: %w", specPath, err)
	}
	// go generate renames what oapi-codegen's client templates name
	// <Op>JSONRequestBody and HttpRequestDoer; so does inventory, so that
	// the Go API it compares is the committed one.
	renamed, err := wirenames.Rename(genFile, []byte(code))
	if err != nil {
		return nil, "", err
	}
	code = string(renamed)
	// Generate rewrites the operation IDs of the document it is given, so
	// the definitions come from a fresh load; the name normalizer that
	// Generate set from the configuration is still in force.
	fresh, err := load()
	if err != nil {
		return nil, "", err
	}
	defs, err := codegen.OperationDefinitions(fresh)
	if err != nil {
		return nil, "", err
	}
	var ops []operation
	for _, d := range defs {
		if d.IsWebhook {
			continue
		}
		ops = append(ops, operation{Method: strings.ToUpper(d.Method), Path: d.Path, ID: d.SpecOperationId, GoName: d.OperationId})
	}
	if err := specParts(spec, ops); err != nil {
		return nil, "", fmt.Errorf("%s: %w", specPath, err)
	}
	if err := goAPIs(code, ops); err != nil {
		return nil, "", fmt.Errorf("generated code of %s: %w", specPath, err)
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Path+" "+ops[i].Method < ops[j].Path+" "+ops[j].Method })
	return ops, code, nil
}

// specParts fills in each operation's spec from the document's JSON.
func specParts(spec []byte, ops []operation) error {
	var root map[string]any
	if err := json.Unmarshal(spec, &root); err != nil {
		return err
	}
	paths, _ := root["paths"].(map[string]any)
	for i := range ops {
		item, _ := paths[ops[i].Path].(map[string]any)
		op, ok := item[strings.ToLower(ops[i].Method)].(map[string]any)
		if !ok {
			return fmt.Errorf("no %s %s", ops[i].Method, ops[i].Path)
		}
		ops[i].spec = map[string]string{}
		for k, v := range op {
			if k == "parameters" {
				continue
			}
			ops[i].spec[k] = canonical(root, v)
		}
		// Path-level and operation-level parameters both shape the call.
		params := append(asList(item["parameters"]), asList(op["parameters"])...)
		if len(params) > 0 {
			ops[i].spec["parameters"] = canonical(root, params)
		}
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// canonical renders v as JSON (map keys sorted) with every local $ref
// replaced by what it points to, so that a change to a shared schema shows
// in every operation that uses it. A reference cycle is left as the $ref.
func canonical(root map[string]any, v any) string {
	var expand func(v any, seen []string) any
	expand = func(v any, seen []string) any {
		switch t := v.(type) {
		case map[string]any:
			if ref, ok := t["$ref"].(string); ok && strings.HasPrefix(ref, "#/") && !slices.Contains(seen, ref) {
				if target, ok := pointer(root, ref); ok {
					return expand(target, append(seen, ref))
				}
			}
			m := make(map[string]any, len(t))
			for k, x := range t {
				m[k] = expand(x, seen)
			}
			return m
		case []any:
			l := make([]any, len(t))
			for i, x := range t {
				l[i] = expand(x, seen)
			}
			return l
		}
		return v
	}
	out, _ := json.Marshal(expand(v, nil)) // maps and slices of JSON values: cannot fail
	return string(out)
}

// pointer resolves a local JSON pointer such as #/components/schemas/User.
func pointer(root map[string]any, ref string) (any, bool) {
	var cur any = root
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// goAPIs fills in each operation's goAPI from the generated source: the
// methods of *ClientWithResponses named GoName+"WithResponse" or
// GoName+"With…WithResponse" (the request-body variants), and the closure of
// the package's types their signatures refer to.
func goAPIs(code string, ops []operation) error {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "gen.go", code, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	types := map[string]*ast.TypeSpec{}
	var methods []*ast.FuncDecl
	for _, d := range file.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			for _, s := range d.Specs {
				if ts, ok := s.(*ast.TypeSpec); ok {
					types[ts.Name.Name] = ts
				}
			}
		case *ast.FuncDecl:
			if d.Recv != nil && len(d.Recv.List) == 1 && render(fset, d.Recv.List[0].Type) == "*ClientWithResponses" {
				methods = append(methods, d)
			}
		}
	}
	// Each method belongs to the operation with the longest matching name,
	// so that GetUser does not claim GetUsersWithResponse.
	owner := map[*ast.FuncDecl]int{}
	for _, m := range methods {
		best := -1
		for i, o := range ops {
			n := m.Name.Name
			if n == o.GoName+"WithResponse" || strings.HasPrefix(n, o.GoName+"With") && strings.HasSuffix(n, "WithResponse") {
				if best < 0 || len(o.GoName) > len(ops[best].GoName) {
					best = i
				}
			}
		}
		if best >= 0 {
			owner[m] = best
		}
	}
	for i := range ops {
		ops[i].goAPI = map[string]string{}
	}
	for m, i := range owner {
		sig := &ast.FuncType{Params: unnamed(m.Type.Params), Results: unnamed(m.Type.Results)}
		ops[i].goAPI["(*ClientWithResponses)."+m.Name.Name] = "func" + strings.TrimPrefix(render(fset, sig), "func")
		queue := []ast.Node{sig}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			ast.Inspect(n, func(x ast.Node) bool {
				switch x := x.(type) {
				case *ast.SelectorExpr:
					return false // another package's type, e.g. context.Context
				case *ast.Ident:
					if ts, ok := types[x.Name]; ok {
						if _, done := ops[i].goAPI[x.Name]; !done {
							ops[i].goAPI[x.Name] = render(fset, ts)
							queue = append(queue, ts.Type)
						}
					}
				}
				return true
			})
		}
	}
	return nil
}

// unnamed copies a parameter or result list without the names: renaming a
// parameter does not change what callers write.
func unnamed(fl *ast.FieldList) *ast.FieldList {
	if fl == nil {
		return nil
	}
	out := &ast.FieldList{}
	for _, f := range fl.List {
		for range max(1, len(f.Names)) {
			out.List = append(out.List, &ast.Field{Type: f.Type})
		}
	}
	return out
}

// render prints a node without comments, its whitespace collapsed, so that
// layout and doc comments (descriptions in the spec) do not count as API.
func render(fset *token.FileSet, n any) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, fset, n); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// opsDiff is how the operations of two versions of the document compare.
type opsDiff struct {
	Old, New int // operation counts
	Added    []operation
	Removed  []operation
	// Paired are operations present in both versions whose path, Go name,
	// definition or Go API changed.
	Paired    []opPair
	Unchanged int
}

// opPair is one operation in both versions.
type opPair struct {
	Old, New operation
	// SpecChanged lists the top-level keys of the definition that differ.
	SpecChanged []string
	// GoChanged lists the Go declarations (methods and types) that were
	// added, removed or changed.
	GoChanged []string
}

// Moved reports a changed URL: the path differs other than in parameter
// names.
func (p opPair) Moved() bool { return p.Old.key() != p.New.key() }

// Renamed reports a changed Go name, which renames the generated methods.
func (p opPair) Renamed() bool { return p.Old.GoName != p.New.GoName }

// diffOperations pairs the operations of old and new by method and path
// (parameter names aside), then pairs what is left by method and Go name
// (an operation that moved to another path), and compares each pair.
func diffOperations(old, new []operation) opsDiff {
	d := opsDiff{Old: len(old), New: len(new)}
	matched := map[int]int{} // old index -> new index
	taken := map[int]bool{}
	pair := func(same func(a, b *operation) bool) {
		for i := range old {
			if _, ok := matched[i]; ok {
				continue
			}
			for j := range new {
				if !taken[j] && same(&old[i], &new[j]) {
					matched[i], taken[j] = j, true
					break
				}
			}
		}
	}
	pair(func(a, b *operation) bool { return a.key() == b.key() })
	pair(func(a, b *operation) bool { return a.Method == b.Method && a.GoName == b.GoName })
	for i := range old {
		j, ok := matched[i]
		if !ok {
			d.Removed = append(d.Removed, old[i])
			continue
		}
		p := opPair{Old: old[i], New: new[j], SpecChanged: changedKeys(old[i].spec, new[j].spec), GoChanged: changedKeys(old[i].goAPI, new[j].goAPI)}
		if p.Old.Path == p.New.Path && !p.Renamed() && len(p.SpecChanged) == 0 && len(p.GoChanged) == 0 {
			d.Unchanged++
			continue
		}
		d.Paired = append(d.Paired, p)
	}
	for j := range new {
		if !taken[j] {
			d.Added = append(d.Added, new[j])
		}
	}
	return d
}

// changedKeys lists, sorted, the keys whose values differ between a and b,
// including keys only one of them has.
func changedKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// GoBreaking lists the changes that break callers' builds for certain:
// generated methods that are removed or renamed.
func (d *opsDiff) GoBreaking() []string {
	var out []string
	for _, o := range d.Removed {
		out = append(out, fmt.Sprintf("%s removed (%s %s)", o.GoName, o.Method, o.Path))
	}
	for _, p := range d.Paired {
		if p.Renamed() {
			out = append(out, fmt.Sprintf("%s renamed to %s (%s %s)", p.Old.GoName, p.New.GoName, p.New.Method, p.New.Path))
		}
	}
	return out
}

// write prints the comparison, one operation a line, in Markdown that
// reads as plain text too. Path and method renames come first, as oasdiff
// does not report a path whose parameters were renamed, and a renamed
// method breaks callers whatever oasdiff says.
func (d *opsDiff) write(w io.Writer) {
	var renamed, changed []opPair
	for _, p := range d.Paired {
		if p.Old.Path != p.New.Path || p.Renamed() {
			renamed = append(renamed, p)
		} else {
			changed = append(changed, p)
		}
	}
	fmt.Fprintf(w, "%d operations -> %d: %d added, %d removed, %d renamed or moved, %d changed otherwise, %d unchanged\n",
		d.Old, d.New, len(d.Added), len(d.Removed), len(renamed), len(changed), d.Unchanged)
	section := func(title string, n int) {
		if n > 0 {
			fmt.Fprintf(w, "\n%s:\n", title)
		}
	}
	section("Added (new generated methods)", len(d.Added))
	for _, o := range d.Added {
		fmt.Fprintf(w, "- `%s %s` (operationId %s): method `%s`\n", o.Method, o.Path, o.ID, o.GoName)
	}
	section("Removed (their generated methods are gone: breaking)", len(d.Removed))
	for _, o := range d.Removed {
		fmt.Fprintf(w, "- `%s %s` (operationId %s): method `%s`\n", o.Method, o.Path, o.ID, o.GoName)
	}
	section("Renamed or moved", len(renamed))
	for _, p := range renamed {
		p.write(w)
	}
	section("Changed", len(changed))
	for _, p := range changed {
		p.write(w)
	}
}

// write prints one line about the pair: what changed, and whether the Go
// API did.
func (p opPair) write(w io.Writer) {
	var facts []string
	switch {
	case p.Moved():
		facts = append(facts, fmt.Sprintf("path changed from `%s`: a different URL", p.Old.Path))
	case p.Old.Path != p.New.Path:
		facts = append(facts, fmt.Sprintf("path renamed from `%s`: parameter names only, the same URL (oasdiff does not report this)", p.Old.Path))
	}
	if p.Renamed() {
		facts = append(facts, fmt.Sprintf("method renamed from `%s` (breaking)", p.Old.GoName))
	}
	if len(p.SpecChanged) > 0 {
		facts = append(facts, "definition changed: "+strings.Join(p.SpecChanged, ", "))
	}
	if len(p.GoChanged) > 0 {
		facts = append(facts, "Go API changed: "+codeList(p.GoChanged))
	} else {
		facts = append(facts, "Go API unchanged")
	}
	fmt.Fprintf(w, "- `%s %s` method `%s`: %s\n", p.New.Method, p.New.Path, p.New.GoName, strings.Join(facts, "; "))
}

func codeList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}
