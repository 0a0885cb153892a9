package overlay

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const doc = `openapi: 3.0.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Room:
      type: object
      required: [name, application_id]
      properties:
        name: {type: string}
`

func TestApply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, overlay string
		wantRequired  []string // Room's required list after applying
		wantErr       string
	}{
		{name: "no overlay", overlay: " \n", wantRequired: []string{"name", "application_id"}},
		{name: "an action applies", overlay: `overlay: 1.1.0
info: {title: o, version: "1"}
actions:
  - target: $.components.schemas.Room.required[?@ == 'application_id']
    remove: true
`, wantRequired: []string{"name"}},
		{name: "a target matching nothing is skipped", overlay: `overlay: 1.1.0
info: {title: o, version: "1"}
actions:
  - target: $.components.schemas.Nothing.required
    remove: true
`, wantRequired: []string{"name", "application_id"}},
		{name: "an invalid overlay", overlay: "overlay: 1.1.0\nactions: []\n", wantErr: "invalid overlay"},
		{name: "not YAML", overlay: "overlay: [", wantErr: "yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := Apply([]byte(doc), []byte(tc.overlay))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Components struct {
					Schemas map[string]struct{ Required []string }
				}
			}
			if err := yaml.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			req := got.Components.Schemas["Room"].Required
			if strings.Join(req, ",") != strings.Join(tc.wantRequired, ",") {
				t.Errorf("Room.required = %v, want %v", req, tc.wantRequired)
			}
		})
	}
}
