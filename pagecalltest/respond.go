package pagecalltest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// answer is what the mock sends for a request that passed validation.
type answer struct {
	status int
	body   any // a JSON value; nil sends no body
}

// successResponse returns the lowest 2xx status an operation declares
// ("2XX" counts as 200, and "default" is used when no 2xx is declared) and
// the JSON schema of that response's body, nil if it has none.
func successResponse(op *openapi3.Operation) (int, *openapi3.SchemaRef) {
	if op.Responses == nil {
		return http.StatusOK, nil
	}
	best, bestKey := 0, ""
	for key := range op.Responses.Map() {
		code := 0
		if strings.EqualFold(key, "2XX") {
			code = http.StatusOK
		} else if n, err := strconv.Atoi(key); err == nil && n >= 200 && n < 300 {
			code = n
		}
		if code != 0 && (best == 0 || code < best) {
			best, bestKey = code, key
		}
	}
	if best == 0 {
		best, bestKey = http.StatusOK, "default"
	}
	r := op.Responses.Value(bestKey)
	if r == nil || r.Value == nil {
		return best, nil
	}
	return best, jsonBodySchema(r.Value.Content)
}

// errorStatus is the status the mock uses for a request it must refuse after
// validation (an unknown user, say): 404 if the operation declares it,
// otherwise the lowest 4xx it declares (Pagecall declares only 400), so the
// answer stays within the document.
func errorStatus(op *openapi3.Operation) int {
	if op.Responses == nil || op.Responses.Value("404") != nil {
		return http.StatusNotFound
	}
	best := 0
	for key := range op.Responses.Map() {
		if n, err := strconv.Atoi(key); err == nil && n >= 400 && n < 500 && (best == 0 || n < best) {
			best = n
		}
	}
	if best == 0 {
		return http.StatusNotFound
	}
	return best
}

var pathParamPattern = regexp.MustCompile(`\{([^}]+)\}`)

// lastPathParam returns the value of the last parameter in the route's path
// template: the user in /users/{user_id} or /users/{id}.
func lastPathParam(route *routers.Route, params map[string]string) string {
	names := pathParamPattern.FindAllStringSubmatch(route.Path, -1)
	if len(names) == 0 {
		return ""
	}
	v := params[strings.TrimSuffix(names[len(names)-1][1], "*")]
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// respond builds the answer to a validated request: the success response
// generated from the document, with the user operations backed by the store.
// The caller holds s.mu.
func (s *Server) respond(route *routers.Route, params map[string]string, reqBody []byte) answer {
	op := route.Operation
	status, schema := successResponse(op)
	var body any
	if schema != nil {
		body = sample(schema)
	}
	kind := classify(op)
	if kind == notUserOp {
		return answer{status, body}
	}

	obj, _ := body.(map[string]any)
	if obj == nil {
		obj = map[string]any{}
	}
	var fields map[string]any
	if len(reqBody) > 0 {
		_ = json.Unmarshal(reqBody, &fields) // validated already; a non-object simply has no fields
	}
	notFound := answer{errorStatus(op), errorBody("user not found")}
	now := s.now()
	switch kind {
	case opListUsers:
		users := s.users.list()
		obj["users"] = users
		if paging, ok := obj["paging"].(map[string]any); ok {
			if _, ok := paging["total"]; ok {
				paging["total"] = len(users)
			}
		}
	case opCreateUser:
		id, _ := fields["user_id"].(string)
		if id == "" {
			return answer{errorStatus(op), errorBody("user_id is required")}
		}
		obj["user"] = s.users.put(id, fields, now)
	case opGetUser, opUpdateUser, opDeleteUser:
		id := lastPathParam(route, params)
		var (
			u  map[string]any
			ok bool
		)
		switch kind {
		case opGetUser:
			u, ok = s.users.get(id)
		case opUpdateUser:
			u, ok = s.users.update(id, fields, now)
		default:
			u, ok = s.users.remove(id)
		}
		if !ok {
			return notFound
		}
		obj["user"] = u
	}
	return answer{status, obj}
}

// errorBody is the JSON body of every error the mock sends.
func errorBody(msg string) map[string]any { return map[string]any{"message": msg} }
