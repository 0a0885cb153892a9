package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/speakeasy-api/openapi/overlay/loader"
	"gopkg.in/yaml.v3"
)

// deprecatedPlaceholder is the invalid example value Pagecall put on Room
// fields from 2023-11 on (see api/overlay.yaml).
const deprecatedPlaceholder = "#DEPRECATED#"

// actionMatch records how many nodes one overlay action selected.
type actionMatch struct {
	Index       int // 1-based, as in api/overlay.yaml
	Description string
	Target      string
	Matches     int
}

// checked is what validating one OpenAPI document produced.
type checked struct {
	// Overlaid is the document after api/overlay.yaml, serialised exactly as
	// oapi-codegen serialises it before generating.
	Overlaid []byte
	// Operations counts the operations in the overlaid document.
	Operations int
	// Actions lists every overlay action with its number of matches in this
	// document.
	Actions []actionMatch
	// Contract lists what breaks the SDK: errata of the overlay's scope left
	// after the overlay (an action no longer matches) and a DeleteUser
	// operation the root package cannot be generated against.
	Contract []string
	// Invalid lists what kin-openapi finds wrong with the overlaid document,
	// examples aside.
	Invalid []string
	// Independent lists what a second validator, independent of
	// kin-openapi (secondOpinion: libopenapi-validator's check against the
	// OpenAPI JSON Schema), finds wrong with the overlaid document. The
	// overlay must keep every version valid for it, so spec-history fails a
	// version on any of these.
	Independent []string
	// Notes are problems that do not stop an update: those of the raw
	// document that the overlay fixes, invalid examples, errata outside the
	// overlay's scope.
	Notes []string
}

// err returns the problems that stop an update, as one error naming file.
func (c *checked) err(file string) error {
	problems := append(append(slices.Clone(c.Contract), c.Invalid...), c.Independent...)
	if len(problems) == 0 {
		return nil
	}
	return &validationError{File: file, Problems: problems}
}

// validationError is a problem with a document that stops an update. It
// names the file so that the maintainer knows which input is wrong.
type validationError struct {
	File     string
	Problems []string
}

// Error names the file and lists its problems.
func (e *validationError) Error() string {
	if len(e.Problems) == 1 {
		return fmt.Sprintf("%s: %s", e.File, e.Problems[0])
	}
	return fmt.Sprintf("%s: %d problems:\n  - %s", e.File, len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// checkSpec loads the OpenAPI document at specPath with kin-openapi, applies
// the overlay at overlayPath the way oapi-codegen does (load, re-encode as
// YAML, apply the actions in order, load again) and validates the result,
// with kin-openapi and with a second, independent validator
// (secondOpinion).
//
// The overlaid document is what gets generated, so that is the one that must
// be valid: problems of the raw document that the overlay removes are
// returned as notes. The overlaid document must also keep what the SDK is
// built on (the DeleteUser operation returning {user: User}) and carry none
// of the errata the overlay exists to remove; a remaining erratum means an
// overlay action no longer matches, which is reported with the action.
//
// External $refs are refused: validation must not reach the network.
func checkSpec(ctx context.Context, specPath, overlayPath string) (*checked, error) {
	raw, err := loadDoc(specPath, nil)
	if err != nil {
		return nil, &validationError{File: specPath, Problems: []string{"cannot load as OpenAPI: " + err.Error()}}
	}
	if !raw.IsOpenAPI30() && !raw.IsOpenAPI31OrLater() {
		return nil, &validationError{File: specPath, Problems: []string{fmt.Sprintf("openapi version %q: want 3.x", raw.OpenAPI)}}
	}
	ov, err := loader.LoadOverlay(overlayPath)
	if err != nil {
		return nil, &validationError{File: overlayPath, Problems: []string{"cannot load overlay: " + err.Error()}}
	}
	if err := ov.Validate(); err != nil {
		return nil, &validationError{File: overlayPath, Problems: []string{"invalid overlay: " + err.Error()}}
	}

	// The same serialisation as oapi-codegen's util.LoadSwaggerWithOverlay,
	// so that the targets see the very nodes they see at generation time.
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(raw); err != nil {
		return nil, fmt.Errorf("%s: re-encode: %w", specPath, err)
	}
	var root yaml.Node
	if err := yaml.NewDecoder(&buf).Decode(&root); err != nil {
		return nil, fmt.Errorf("%s: re-decode: %w", specPath, err)
	}
	rawFindings := errataFindings(&root)

	res := &checked{}
	for i, action := range ov.Actions {
		q, err := ov.NewPath(action.Target, nil)
		if err != nil {
			return nil, &validationError{File: overlayPath, Problems: []string{fmt.Sprintf("action %d: bad target %q: %v", i+1, action.Target, err)}}
		}
		res.Actions = append(res.Actions, actionMatch{Index: i + 1, Description: action.Description, Target: action.Target, Matches: len(q.Query(&root))})
		one := *ov
		one.Actions = ov.Actions[i : i+1]
		if err := one.ApplyTo(&root); err != nil {
			return nil, &validationError{File: overlayPath, Problems: []string{fmt.Sprintf("action %d (%s): %v", i+1, action.Description, err)}}
		}
	}
	res.Overlaid, err = yaml.Marshal(&root)
	if err != nil {
		return nil, fmt.Errorf("%s: serialise overlaid document: %w", specPath, err)
	}

	doc, err := loadDoc(specPath, res.Overlaid)
	if err != nil {
		return nil, &validationError{File: specPath, Problems: []string{"cannot load after applying " + overlayPath + ": " + err.Error()}}
	}
	// Examples do not reach the generated code, so an invalid example is a
	// note; anything else kin-openapi finds stops the update.
	for _, p := range validationErrors(ctx, doc, openapi3.DisableExamplesValidation()) {
		res.Invalid = append(res.Invalid, fmt.Sprintf("invalid OpenAPI (after applying %s): %s", overlayFile, p))
	}
	for _, p := range validationErrors(ctx, doc) {
		if !slices.ContainsFunc(res.Invalid, func(q string) bool { return strings.HasSuffix(q, p) }) {
			res.Notes = append(res.Notes, "invalid example (not fixed by the overlay; examples do not reach the generated code): "+p)
		}
	}
	for _, p := range secondOpinion(res.Overlaid) {
		res.Independent = append(res.Independent, fmt.Sprintf("invalid OpenAPI according to libopenapi-validator (after applying %s): %s", overlayFile, p))
	}
	var unrelated []string
	for _, f := range errataFindings(&root) {
		if f.overlayScope {
			res.Contract = append(res.Contract, fmt.Sprintf("erratum left after applying %s (%s): %s", overlayFile, unmatchedActions(res.Actions), f.text))
		} else {
			unrelated = append(unrelated, f.text)
		}
	}
	res.Contract = append(res.Contract, sdkContract(doc)...)

	for _, p := range validationErrors(ctx, raw) {
		if !slices.ContainsFunc(append(res.Notes, res.Invalid...), func(n string) bool { return strings.HasSuffix(n, p) }) {
			res.Notes = append(res.Notes, "raw document problem the overlay fixes: "+p)
		}
	}
	for _, f := range rawFindings {
		if f.overlayScope {
			res.Notes = append(res.Notes, "erratum the overlay fixes: "+f.text)
		}
	}
	for _, f := range unrelated {
		res.Notes = append(res.Notes, "erratum not covered by the overlay (harmless to the generated code): "+f)
	}
	for _, p := range doc.Paths.Map() {
		res.Operations += len(p.Operations())
	}
	return res, nil
}

// loadDoc loads an OpenAPI document from path, or from data as if it were at
// path when data is not nil. External references are refused.
func loadDoc(path string, data []byte) (*openapi3.T, error) {
	l := openapi3.NewLoader()
	l.IsExternalRefsAllowed = false
	if data == nil {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return l.LoadFromDataWithPath(data, &url.URL{Path: filepath.ToSlash(abs)})
}

// unmatchedActions names the overlay actions that matched nothing, the usual
// reason an erratum survives.
func unmatchedActions(actions []actionMatch) string {
	var none []string
	for _, a := range actions {
		if a.Matches == 0 {
			none = append(none, fmt.Sprintf("action %d %q", a.Index, a.Description))
		}
	}
	if len(none) == 0 {
		return "every action matched something"
	}
	return "matched nothing: " + strings.Join(none, ", ")
}

// finding is one erratum found in a document.
type finding struct {
	text string
	// overlayScope is true for the errata api/overlay.yaml exists to remove;
	// finding one of those after the overlay means an action did not match.
	overlayScope bool
}

// errataFindings reports, by location, the errata of Pagecall's documents:
// an example that is the "#DEPRECATED#" placeholder, and an object schema
// whose required list names a property it does not define. The latter is in
// the overlay's scope only for 200 application/json bodies that define
// `user` (the `required: [users]` of single-user bodies); elsewhere it is
// reported but left alone.
func errataFindings(root *yaml.Node) []finding {
	var out []finding
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.MappingNode:
			var props, req *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				switch k {
				case "example":
					if v.Kind == yaml.ScalarNode && v.Value == deprecatedPlaceholder {
						out = append(out, finding{fmt.Sprintf("%s.example is %q", path, deprecatedPlaceholder), true})
					}
				case "properties":
					props = v
				case "required":
					req = v
				}
				walk(v, path+"."+k)
			}
			if props == nil || props.Kind != yaml.MappingNode || req == nil || req.Kind != yaml.SequenceNode {
				return
			}
			singleUser := strings.HasSuffix(path, ".responses.200.content.application/json.schema") && hasKey(props, "user")
			for _, r := range req.Content {
				if !hasKey(props, r.Value) {
					out = append(out, finding{fmt.Sprintf("%s.required lists %q, which is not among its properties %v", path, r.Value, keys(props)), singleUser})
				}
			}
		}
	}
	walk(root, "$")
	return out
}

// validationErrors validates doc with kin-openapi, collecting every error
// rather than the first, each cut to its first line (kin-openapi appends
// whole schemas and values to example errors).
func validationErrors(ctx context.Context, doc *openapi3.T, opts ...openapi3.ValidationOption) []string {
	err := doc.Validate(ctx, append(opts, openapi3.EnableMultiError())...)
	if err == nil {
		return nil
	}
	errs := []error{err}
	if me, ok := err.(openapi3.MultiError); ok {
		errs = me
	}
	var out []string
	for _, e := range errs {
		msg, _, _ := strings.Cut(e.Error(), "\n")
		if msg = strings.TrimSpace(msg); !slices.Contains(out, msg) {
			out = append(out, msg)
		}
	}
	return out
}

func hasKey(m *yaml.Node, key string) bool {
	return slices.Contains(keys(m), key)
}

func keys(m *yaml.Node) []string {
	var ks []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		ks = append(ks, m.Content[i].Value)
	}
	return ks
}

// sdkContract checks what the root package is written against: an operation
// DeleteUser whose 200 application/json body is an object with a required
// property `user` referring to components/schemas/User.
func sdkContract(doc *openapi3.T) []string {
	if doc.Components == nil || doc.Components.Schemas["User"] == nil {
		return []string{"components.schemas.User is missing; package pagecall uses gen.User"}
	}
	var op *openapi3.Operation
	for _, p := range doc.Paths.Map() {
		for _, o := range p.Operations() {
			if o.OperationID == "DeleteUser" {
				op = o
			}
		}
	}
	if op == nil {
		return []string{"no operation has operationId DeleteUser; package pagecall uses gen.ClientWithResponses.DeleteUserWithResponse"}
	}
	resp := op.Responses.Status(200)
	if resp == nil || resp.Value == nil || resp.Value.Content.Get("application/json") == nil || resp.Value.Content.Get("application/json").Schema == nil {
		return []string{"DeleteUser has no 200 application/json body; package pagecall reads gen.DeleteUserResponse.JSON200"}
	}
	body := resp.Value.Content.Get("application/json").Schema.Value
	user := body.Properties["user"]
	switch {
	case user == nil || !strings.HasSuffix(user.Ref, "/components/schemas/User"):
		return []string{"DeleteUser's 200 body has no property `user` referring to User; package pagecall reads JSON200.User"}
	case !slices.Contains(body.Required, "user"):
		return []string{"DeleteUser's 200 body does not require `user`, so JSON200.User would be generated as a pointer; package pagecall reads it as a value"}
	}
	return nil
}
