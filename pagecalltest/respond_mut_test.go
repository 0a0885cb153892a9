package pagecalltest

import (
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestSuccessResponseLowest2xx: the mock answers an operation with its
// lowest documented 2xx status, and a 3xx is no success. The published
// spec gives every operation one 2xx, so only a document with several
// (a later version, or WithSpec) shows it. (Found by gremlins: a
// boundary of 300 taken as success, or the highest 2xx picked, passed
// every test.)
func TestSuccessResponseLowest2xx(t *testing.T) {
	desc := "x"
	resp := func() *openapi3.ResponseRef {
		return &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc}}
	}
	for _, tc := range []struct {
		name  string
		codes []int
		want  int
	}{
		{"lowest of three 2xx", []int{204, 201, 200}, http.StatusOK},
		{"lowest of two 2xx", []int{202, 201}, http.StatusCreated},
		{"300 is no success", []int{300}, http.StatusOK}, // falls back to 200 and "default"
		{"300 beside a 2xx", []int{300, 202}, http.StatusAccepted},
		{"299 is", []int{299}, 299},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Map order is random: try enough times that every order is seen.
			for range 20 {
				var opts []openapi3.NewResponsesOption
				for _, c := range tc.codes {
					opts = append(opts, openapi3.WithStatus(c, resp()))
				}
				op := &openapi3.Operation{Responses: openapi3.NewResponses(opts...)}
				if got, _ := successResponse(op); got != tc.want {
					t.Fatalf("codes %v: status %d, want %d", tc.codes, got, tc.want)
				}
			}
		})
	}
}
