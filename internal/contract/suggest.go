package contract

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// overlayAction is one action of an OpenAPI Overlay 1.x document, as
// api/overlay.yaml writes them.
type overlayAction struct {
	Target      string `yaml:"target"`
	Description string `yaml:"description"`
	Update      any    `yaml:"update,omitempty"`
	Remove      bool   `yaml:"remove,omitempty"`
}

// overlayDocument is an overlay with its header.
type overlayDocument struct {
	Overlay string `yaml:"overlay"`
	Info    struct {
		Title   string `yaml:"title"`
		Version string `yaml:"version"`
	} `yaml:"info"`
	Actions []overlayAction `yaml:"actions"`
}

// suggest returns the overlay actions that make the spec accept what f
// observed, each with its why; none for a finding that is not new drift or
// undocumented, or that no action can fix (a body that is not JSON). seen
// holds the types observed at each schema location: where answers held
// both the declared type and another, a retyped schema accepts either.
func suggest(f *Finding, seen map[string]map[string]bool) []overlayAction {
	if !f.IsNew() && f.Verdict != VerdictUndocumented {
		return nil
	}
	i := f.issue
	why := fmt.Sprintf("contract check: %s %s %s answered %d with %s %s.", f.Operation, f.Method, f.Path, f.Status, orNone(f.Pointer), f.Problem)
	last := lastToken(f.Pointer)
	var out []overlayAction
	switch i.kind {
	case KindType:
		if i.schema == "" {
			return nil
		}
		t := openAPIType(i.observed)
		if i.declared != nil && i.declared.Format != "" {
			out = append(out, overlayAction{Target: i.schema + ".format", Description: why + " Drop the format of the old type.", Remove: true})
		}
		if i.declared != nil && len(i.declared.Enum) > 0 {
			out = append(out, overlayAction{Target: i.schema + ".enum", Description: why + " Drop the enum of the old type.", Remove: true})
		}
		update := map[string]any{"type": t}
		if t == "array" {
			update["items"] = map[string]any{}
		}
		if old := declaredBranch(i.declared); old != nil && seen[i.schema][old["type"].(string)] {
			// Other answers held the declared type here: accept both.
			out = append(out, overlayAction{Target: i.schema + ".type", Description: why + " Other answers fit the declared type: the type moves into anyOf.", Remove: true})
			out = append(out, overlayAction{Target: i.schema, Description: why + fmt.Sprintf(" The API sends %s here and %s elsewhere.", t, old["type"]),
				Update: map[string]any{"anyOf": []any{old, update}}})
			return out
		}
		out = append(out, overlayAction{Target: i.schema, Description: why + fmt.Sprintf(" The API sends %s.", t), Update: update})
	case KindNull:
		if i.schema == "" {
			return nil
		}
		out = append(out, overlayAction{Target: i.schema, Description: why + " The API sends null.", Update: map[string]any{"nullable": true}})
	case KindMissing:
		out = append(out, overlayAction{Target: i.parent + ".required[?@ == " + quote(last) + "]",
			Description: why + " The API leaves it out: it is not required.", Remove: true})
	case KindEnum:
		if i.schema == "" {
			return nil
		}
		out = append(out, overlayAction{Target: i.schema + ".enum", Description: why + " The API sends a value the enum lacks.", Update: []any{i.observed}})
	case KindFormat:
		if i.schema == "" {
			return nil
		}
		out = append(out, overlayAction{Target: i.schema + ".format", Description: why + " The API sends strings of another format.", Remove: true})
	case KindExtra:
		prop := map[string]any{"description": "Observed by pagecall contract check."}
		if i.observed != nil {
			prop["type"] = openAPIType(i.observed)
		} else {
			prop["nullable"] = true
		}
		out = append(out, overlayAction{Target: i.parent + ".properties", Description: why + " Declare what the API sends.",
			Update: map[string]any{last: prop}})
	case KindStatus:
		out = append(out, overlayAction{Target: i.parent, Description: why + " Declare the status the API answers.",
			Update: map[string]any{fmt.Sprint(f.Status): map[string]any{"description": "Observed by pagecall contract check."}}})
	}
	return out
}

// WriteSuggestions writes to path the overlay actions that the report's
// findings suggest (new drift and undocumented properties), one action per
// target and change, each with its why.
func WriteSuggestions(path string, r *Report) error {
	found, seen := r.Findings(), r.seen
	doc := overlayDocument{Overlay: "1.1.0"}
	doc.Info.Title = "Overlay actions suggested by pagecall contract check"
	doc.Info.Version = time.Now().UTC().Format("2006-01-02")
	done := map[string]bool{}
	for _, f := range found {
		for _, a := range suggest(f, seen) {
			key, _ := yaml.Marshal(struct {
				T string
				U any
				R bool
			}{a.Target, a.Update, a.Remove})
			if done[string(key)] {
				continue
			}
			done[string(key)] = true
			doc.Actions = append(doc.Actions, a)
		}
	}
	if doc.Actions == nil {
		doc.Actions = []overlayAction{}
	}
	var buf bytes.Buffer
	buf.WriteString("# Overlay actions that make the spec accept what pagecall contract check\n" +
		"# observed. Review each one before adding it to api/overlay.yaml (see\n" +
		"# docs/SPEC-UPDATES.md); check them with: pagecall contract check --overlay FILE\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("--suggest-overlay: %w", err)
	}
	return nil
}

// declaredBranch is the declared type of s as an anyOf branch (its type,
// format and enum), nil if s declares no single type.
func declaredBranch(s *openapi3.Schema) map[string]any {
	if s == nil || s.Type == nil || len(s.Type.Slice()) != 1 {
		return nil
	}
	b := map[string]any{"type": s.Type.Slice()[0]}
	if s.Format != "" {
		b["format"] = s.Format
	}
	if len(s.Enum) > 0 {
		b["enum"] = s.Enum
	}
	return b
}
