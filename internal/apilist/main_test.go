package main

import (
	"slices"
	"strings"
	"testing"
)

// TestListing lists the module from its root (../..) and checks lines of
// each kind, and that nothing private is listed.
func TestListing(t *testing.T) {
	t.Chdir("../..")
	lines, err := listing([]string{"./..."})
	if err != nil {
		t.Fatal(err)
	}
	const root = "pkg github.com/pplink/pagecall-go, "
	for _, want := range []string{
		root + "const DefaultBudgetCapacity untyped int = 400",
		root + "const MemberTypeHost wire.MemberType = \"host\"",
		root + "var ErrInvalidUserID error",
		root + "func Ptr[T any](T) *T",
		root + "func NewClient(...Option) (*Client, error)",
		root + "method (*Client) RetryBudget() float64",
		root + "method (RetryPolicy) Backoff(int) time.Duration",
		root + "type RetryPolicy struct",
		root + "type RetryPolicy struct, DisableBudget bool",
		root + "type Room = wire.Room",
		root + "type Response interface, StatusCode() int",
		"pkg github.com/pplink/pagecall-go/api, var OpenAPI []byte",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("listing lacks %q", want)
		}
	}
	if !slices.IsSorted(lines) {
		t.Error("listing is not sorted")
	}
	for _, l := range lines {
		pkg, _, _ := strings.Cut(l, ",")
		if strings.Contains(pkg, "/internal") || strings.Contains(pkg, "/cmd/") {
			t.Errorf("private package listed: %q", l)
		}
		if strings.Contains(l, "retryBudget") || strings.Contains(l, "requestLoop") {
			t.Errorf("unexported identifier listed: %q", l)
		}
	}
}
