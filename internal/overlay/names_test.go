// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package overlay

import (
	"bytes"
	"testing"

	"github.com/pplink/pagecall-go/api"
	"gopkg.in/yaml.v3"
)

// opsAndBodies applies api/overlay.yaml to doc and returns, by path, the
// POST or GET operationId and request body schema, and the component
// schemas the document ends with.
func opsAndBodies(t *testing.T, doc []byte) (ids map[string]string, bodies map[string]map[string]any, schemas map[string]any) {
	t.Helper()
	out, err := Apply(doc, api.Overlay)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	ids, bodies = map[string]string{}, map[string]map[string]any{}
	for path, item := range d.Paths {
		for _, method := range []string{"post", "get"} {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			ids[path], _ = op["operationId"].(string)
			rb, _ := op["requestBody"].(map[string]any)
			content, _ := rb["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			bodies[path], _ = media["schema"].(map[string]any)
		}
	}
	return ids, bodies, d.Components.Schemas
}

// TestOverlayNames pins the renames and the named bodies of api/overlay.yaml
// on the checked-in document, and checks that they stand down where they
// must: a body reshaped upstream is left as published (and no component
// is added for it), and a document without the operations gains nothing.
func TestOverlayNames(t *testing.T) {
	const message, pages, sessions = "/rooms/{room_id}/message", "/rooms/{room_id}/pages/create_many", "/rooms/{room_id}/sessions"

	ids, bodies, schemas := opsAndBodies(t, api.OpenAPI)
	for path, want := range map[string]string{message: "SendRoomMessage", pages: "CreateRoomPages", sessions: "ListRoomSessions"} {
		if ids[path] != want {
			t.Errorf("%s: operationId %q, want %q", path, ids[path], want)
		}
	}
	for path, want := range map[string]string{message: "SendRoomMessageRequest", pages: "CreateRoomPagesRequest"} {
		if got := bodies[path]["$ref"]; got != "#/components/schemas/"+want || len(bodies[path]) != 1 {
			t.Errorf("%s: body %v, want only a $ref to %s", path, bodies[path], want)
		}
		if schemas[want] == nil {
			t.Errorf("no component %s", want)
		}
	}

	// Upstream adds a field to the message and reshapes the pages: both
	// bodies stay inline, the components are not added, the names stay.
	reshaped := bytes.Replace(api.OpenAPI, []byte("                message:\n                  type: string\n"),
		[]byte("                message:\n                  type: string\n                priority:\n                  type: integer\n"), 1)
	reshaped = bytes.Replace(reshaped, []byte("              type: array\n              items:\n                $ref: \"#/components/schemas/Page\"\n"),
		[]byte("              type: array\n              items:\n                type: string\n"), 1)
	if bytes.Equal(reshaped, api.OpenAPI) {
		t.Fatal("the reshaping edits match nothing in api/openapi.yaml")
	}
	ids, bodies, schemas = opsAndBodies(t, reshaped)
	for _, path := range []string{message, pages} {
		if _, isRef := bodies[path]["$ref"]; isRef || bodies[path]["type"] == nil {
			t.Errorf("%s: reshaped body became %v, want it inline as published", path, bodies[path])
		}
	}
	for _, name := range []string{"SendRoomMessageRequest", "CreateRoomPagesRequest"} {
		if schemas[name] != nil {
			t.Errorf("component %s added for a body it does not describe", name)
		}
	}
	if ids[message] != "SendRoomMessage" || ids[pages] != "CreateRoomPages" {
		t.Errorf("renames lost on a reshaped body: %v", ids)
	}

	// A document without these operations (2023-04's): nothing is added.
	var doc map[string]any
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{message, pages, sessions} {
		delete(paths, p)
	}
	without, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, _, schemas = opsAndBodies(t, without)
	for _, name := range []string{"SendRoomMessageRequest", "CreateRoomPagesRequest"} {
		if schemas[name] != nil {
			t.Errorf("component %s added to a document without its operation", name)
		}
	}
}
