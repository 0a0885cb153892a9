// These tests are written against the checked-in spec's own operations
// (their names, paths and answers), which older published versions lack or
// name otherwise, so `make spec-history` leaves them out (-tags anyspec).

//go:build !anyspec

package contract

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestCheckAnswerKinds covers the kinds of drift that the mock does not
// plant: an undeclared status, a body that is not JSON, a bad date-time.
func TestCheckAnswerKinds(t *testing.T) {
	t.Parallel()
	spec, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := spec.overlaid
	tests := []struct {
		status      int
		contentType string
		body        string
		kind        string
		pointer     string
	}{
		{201, "application/json", `{}`, KindStatus, ""},
		{200, "text/html", `<html>proxy error</html>`, KindBody, ""},
		{200, "application/json", `{"user":`, KindBody, ""},
		{200, "application/json", `{"user":{"user_id":"x","created_at":"yesterday"}}`, KindFormat, "/user/created_at"},
		{200, "application/json", `{"user":{"user_id":"x","default_member_type":"boss"}}`, KindEnum, "/user/default_member_type"},
	}
	for _, tt := range tests {
		issues, ok := checkAnswer(doc, "GET", "/users/{user_id}", received{status: tt.status, contentType: tt.contentType, body: []byte(tt.body)}, nil)
		if !ok || len(issues) != 1 || issues[0].kind != tt.kind || issues[0].pointer != tt.pointer {
			t.Errorf("%d %s %s: %+v, want one %s at %q", tt.status, tt.contentType, tt.body, issues, tt.kind, tt.pointer)
		}
		if strings.Contains(issues[0].problem, "yesterday") || strings.Contains(issues[0].problem, "boss") || strings.Contains(issues[0].problem, "proxy") {
			t.Errorf("the problem quotes the answer: %q", issues[0].problem)
		}
	}
	if _, ok := checkAnswer(doc, "GET", "/nowhere", received{status: 200, contentType: "application/json", body: []byte(`{}`)}, nil); ok {
		t.Error("an operation the spec lacks was checked")
	}
}

// TestUnescapeTokenDecodesTildeOneFirst pins RFC 6901's order of decoding:
// ~1 before ~0, so that a property named "a~1b" (escaped "a~01b") comes
// back as itself, not as "a/b". The suggested overlay names a property by
// the decoded last token of its pointer.
func TestUnescapeTokenDecodesTildeOneFirst(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a~1b", "a/b", "a~0b", "~", "/", "~01", "x~/y", "plain"} {
		ptr := "/room/" + escapeToken(name)
		if got := lastToken(ptr); got != name {
			t.Errorf("lastToken(%q) = %q, want %q", ptr, got, name)
		}
	}
	if got := unescapeToken("a~01b"); got != "a~1b" {
		t.Errorf(`unescapeToken("a~01b") = %q, want "a~1b"`, got)
	}
}

// TestCheckAnswerUnreadBody: a 2xx that the SDK refused unread (not JSON)
// is body drift, named by its content type when that is not JSON.
func TestCheckAnswerUnreadBody(t *testing.T) {
	t.Parallel()
	spec, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	for ct, want := range map[string]string{
		"text/html":        `the body is "text/html", not the declared JSON`,
		"application/json": "the body is not valid JSON",
	} {
		issues, ok := checkAnswer(spec.overlaid, "GET", "/users/{user_id}", received{status: 200, contentType: ct, notJSON: true}, nil)
		if !ok || len(issues) != 1 || issues[0].kind != KindBody || issues[0].problem != want {
			t.Errorf("%s: %+v, want one body issue %q", ct, issues, want)
		}
	}
}

// TestExtrasLeaveAFreeFormObjectAlone: an object whose schema declares no
// properties takes any, and none is reported undocumented; a declared
// object's unknown property is.
func TestExtrasLeaveAFreeFormObjectAlone(t *testing.T) {
	t.Parallel()
	v := map[string]any{"a": 1.0, "b": "x"}
	if got := extras(openapi3.NewObjectSchema().NewRef(), "$", v, "", nil); len(got) != 0 {
		t.Errorf("free-form object: %+v, want no extras", got)
	}
	declared := openapi3.NewObjectSchema().WithProperty("a", openapi3.NewFloat64Schema()).NewRef()
	if got := extras(declared, "$", v, "", nil); len(got) != 1 || got[0].pointer != "/b" {
		t.Errorf("declared object: %+v, want /b undocumented", got)
	}
}
