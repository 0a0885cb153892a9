// These tests read the checked-in spec's own deprecated fields, which older
// published versions lack or mark otherwise, so `make spec-history` leaves
// them out (-tags anyspec).

//go:build !anyspec

package pagecall

import (
	"fmt"
	"go/ast"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDeprecatedFieldsHaveDeprecatedParagraph: every field, constant or
// type of the generated wire models whose doc speaks of deprecation says it
// in a "Deprecated: " paragraph of its own, so that Go tools flag its use
// through the root's aliases; the Room fields the spec marks deprecated
// are among them.
func TestDeprecatedFieldsHaveDeprecatedParagraph(t *testing.T) {
	docs := docTexts(t, "internal/wire", "github.com/pplink/pagecall-go/internal/wire")
	for _, f := range []string{"Room.CreatedUserID", "Room.IsTerminated", "Room.RoomTemplateID"} {
		if !hasDeprecatedParagraph(docs[f]) {
			t.Errorf("doc of %s has no Deprecated: paragraph:\n%s", f, docs[f])
		}
	}
	for where, text := range docs {
		if strings.Contains(text, "*[Deprecated]*") {
			t.Errorf("doc of %s keeps the spec's *[Deprecated]* marker:\n%s", where, text)
		}
		if strings.Contains(strings.ToLower(text), "deprecated") && !hasDeprecatedParagraph(text) {
			t.Errorf("doc of %s speaks of deprecation without a Deprecated: paragraph:\n%s", where, text)
		}
	}
}

// TestSpecDeprecatedFieldsAreDeprecatedInGo: every schema property that the
// spec marks "*[Deprecated]*" in prose has a "Deprecated: " paragraph on its
// wire field, found by its JSON name, and the root alias's field list says
// "(deprecated" for it, so that no field the overlay misses slips through.
func TestSpecDeprecatedFieldsAreDeprecatedInGo(t *testing.T) {
	data, err := os.ReadFile("api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Description string `yaml:"description"`
				} `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	// The Go field of each JSON property of each wire struct type.
	_, files := parseDir(t, "internal/wire")
	goField := map[string]string{} // "Schema.json" -> "Schema.GoField"
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fl := range st.Fields.List {
				if fl.Tag == nil || len(fl.Names) != 1 {
					continue
				}
				tag := reflect.StructTag(strings.Trim(fl.Tag.Value, "`")).Get("json")
				goField[ts.Name.Name+"."+strings.Split(tag, ",")[0]] = ts.Name.Name + "." + fl.Names[0].Name
			}
			return true
		})
	}
	wireDocs := docTexts(t, "internal/wire", "github.com/pplink/pagecall-go/internal/wire")
	rootDocs := docTexts(t, ".", "github.com/pplink/pagecall-go")
	n := 0
	for schema, s := range spec.Components.Schemas {
		for prop, p := range s.Properties {
			if !strings.Contains(p.Description, "*[Deprecated]*") {
				continue
			}
			n++
			field, ok := goField[schema+"."+prop]
			if !ok {
				t.Errorf("%s.%s is deprecated in the spec, but wire has no field for it", schema, prop)
				continue
			}
			if !hasDeprecatedParagraph(wireDocs[field]) {
				t.Errorf("%s (%s.%s, deprecated in the spec) has no Deprecated: paragraph:\n%s", field, schema, prop, wireDocs[field])
			}
			goName := strings.SplitN(field, ".", 2)[1]
			if !strings.Contains(rootDocs[schema], fmt.Sprintf("%q)", prop)) ||
				!regexp.MustCompile(`(?m)^\s*- `+goName+` .*\(deprecated`).MatchString(rootDocs[schema]) {
				t.Errorf("the root's doc of %s does not list %s as deprecated:\n%s", schema, goName, rootDocs[schema])
			}
		}
	}
	if n == 0 {
		t.Fatal("the spec marks no field *[Deprecated]*: the test reads the wrong document")
	}
}
