package pagecall

import (
	"os"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestGeneratorConfigsAgree: the oapi-codegen runs (generate.go) must
// see the same spec through the same overlay and name things the same way,
// or operations.gen.go would call names package gen does not have. Only the
// package, the output and the templates may differ.
func TestGeneratorConfigsAgree(t *testing.T) {
	load := func(path string) map[string]any {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		delete(m, "package")
		delete(m, "output")
		delete(m, "generate")
		if oo, ok := m["output-options"].(map[string]any); ok {
			delete(oo, "user-templates")
		}
		return m
	}
	want := load("gen/config.yaml")
	for _, path := range []string{"gen/methods.yaml", "gen/conformance.yaml", "gen/doc.yaml", "gen/cli.yaml"} {
		if got := load(path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s differs from gen/config.yaml beyond package, output, generate and templates:\n%v\nwant\n%v", path, got, want)
		}
	}
}
