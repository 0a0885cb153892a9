// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package contract

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pplink/pagecall-go/pagecalltest"
	"gopkg.in/yaml.v3"
)

// TestSuggestionsCoverRefutedFindings: an answer that refutes the
// overlay's change (GetUser without the `user` the overlay requires) gets
// an overlay action too, as new drift does.
func TestSuggestionsCoverRefutedFindings(t *testing.T) {
	t.Parallel()
	srv := pagecalltest.NewTestServer(t)
	d, err := pagecalltest.ParseDrift("GetUser:/user:remove")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.PlantDrift(d); err != nil {
		t.Fatal(err)
	}
	rep, _ := testRun(t, srv, Options{})
	refuted := 0
	for _, f := range rep.Findings() {
		if f.Verdict == VerdictRefuted {
			refuted++
		}
	}
	if refuted != 1 {
		t.Fatalf("findings %+v, want one refuted", rep.Findings())
	}
	file := filepath.Join(t.TempDir(), "suggested.yaml")
	if err := WriteSuggestions(file, rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc overlayDocument
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range doc.Actions {
		found = found || a.Remove && strings.HasSuffix(a.Target, ".required[?@ == 'user']")
	}
	if !found {
		t.Errorf("no action drops the refuted requirement:\n%s", b)
	}
}

// TestSuggestNamesAnEscapedProperty: an undeclared property whose name
// holds "~1" (escaped "~01" in the pointer) is declared by its own name.
func TestSuggestNamesAnEscapedProperty(t *testing.T) {
	t.Parallel()
	f := &Finding{Operation: "GetRoom", Method: "GET", Path: "/rooms/{id}", Status: 200, Pointer: "/room/" + escapeToken("x~1y"),
		Kind: KindExtra, Verdict: VerdictUndocumented, Problem: "is not declared",
		issue: issue{kind: KindExtra, parent: "$.components.schemas['Room']", observed: "v"}}
	actions := suggest(f, nil)
	if len(actions) != 1 {
		t.Fatalf("actions %+v, want one", actions)
	}
	update, _ := actions[0].Update.(map[string]any)
	if _, ok := update["x~1y"]; !ok || len(update) != 1 {
		t.Errorf("update %v, want the property x~1y", update)
	}
}

// TestSuggestionsKeepTheSameChangeAtEachTarget: two findings that need
// the same change (nullable) at two schemas get an action each; only the
// same change at the same target is written once.
func TestSuggestionsKeepTheSameChangeAtEachTarget(t *testing.T) {
	t.Parallel()
	null := func(op, ptr, schema string) *Finding {
		return &Finding{Operation: op, Method: "GET", Path: "/x", Status: 200, Pointer: ptr, Kind: KindNull, Verdict: VerdictDrift,
			Problem: "is null", issue: issue{kind: KindNull, pointer: ptr, schema: schema}}
	}
	rep := &Report{findings: map[string]*Finding{}}
	for k, f := range map[string]*Finding{
		"a": null("GetRoom", "/room/name", "$.components.schemas['Room'].properties['name']"),
		"b": null("GetUser", "/user/name", "$.components.schemas['User'].properties['name']"),
		"c": null("ListRooms", "/rooms/*/name", "$.components.schemas['Room'].properties['name']"),
	} {
		rep.findings[k] = f
		rep.order = append(rep.order, k)
	}
	file := filepath.Join(t.TempDir(), "suggested.yaml")
	if err := WriteSuggestions(file, rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc overlayDocument
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, a := range doc.Actions {
		targets = append(targets, a.Target)
	}
	slices.Sort(targets)
	want := []string{"$.components.schemas['Room'].properties['name']", "$.components.schemas['User'].properties['name']"}
	if !slices.Equal(targets, want) {
		t.Errorf("targets %q, want %q", targets, want)
	}
}

// TestSuggestionsWithNothingToSuggestLoadAsAnOverlay: a run with nothing to
// suggest writes an overlay without actions, and --overlay takes that file
// back (it changes nothing), so suggest-then-check works on a clean account.
func TestSuggestionsWithNothingToSuggestLoadAsAnOverlay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "suggested.yaml")
	if err := WriteSuggestions(path, &Report{findings: map[string]*Finding{}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(b); err != nil {
		t.Errorf("Load of an overlay with no actions: %v, want it accepted as no change", err)
	}
}
