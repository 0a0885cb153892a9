package pagecalltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
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
// otherwise its lowest declared 4xx (Pagecall declares only 400), so the
// answer stays within the document.
func errorStatus(op *openapi3.Operation) int {
	return declaredStatus(op, http.StatusNotFound)
}

// authStatus is the status for a request without a valid key: 401 if the
// operation declares it; otherwise the declared 4xx whose description
// speaks of authentication (Pagecall's 400 reads "Invalid Parameters
// Supplied or Unauthenticated or Unauthorized"), else the lowest declared
// 4xx.
func authStatus(op *openapi3.Operation) int {
	if op == nil || op.Responses == nil || declares(op, http.StatusUnauthorized) {
		return http.StatusUnauthorized
	}
	for _, code := range clientErrors(op) {
		r := op.Responses.Value(strconv.Itoa(code))
		if r != nil && r.Value != nil && r.Value.Description != nil {
			d := strings.ToLower(*r.Value.Description)
			if strings.Contains(d, "unauthenticated") || strings.Contains(d, "unauthorized") {
				return code
			}
		}
	}
	return declaredStatus(op, http.StatusUnauthorized)
}

// declaredStatus returns status if the operation declares it (exactly, as
// a range such as "4XX", or through "default"), otherwise the lowest 4xx it
// declares. An operation that declares no responses, or no 4xx, leaves
// status as is.
func declaredStatus(op *openapi3.Operation, status int) int {
	if op == nil || op.Responses == nil || op.Responses.Len() == 0 || declares(op, status) {
		return status
	}
	if codes := clientErrors(op); len(codes) > 0 {
		return codes[0]
	}
	return status
}

// declares reports whether the operation documents an answer with status:
// exactly, by its range ("4XX"), or by "default", as kin-openapi's
// response validation looks it up. An operation without responses declares
// nothing.
func declares(op *openapi3.Operation, status int) bool {
	if op == nil || op.Responses == nil {
		return false
	}
	return op.Responses.Status(status) != nil || op.Responses.Default() != nil
}

// clientErrors lists the 4xx statuses the operation declares, lowest first.
func clientErrors(op *openapi3.Operation) []int {
	var codes []int
	for key := range op.Responses.Map() {
		if n, err := strconv.Atoi(key); err == nil && n >= 400 && n < 500 {
			codes = append(codes, n)
		}
	}
	slices.Sort(codes)
	return codes
}

var pathParamPattern = regexp.MustCompile(`\{([^}]+)\}`)

// pathValues returns the values of the route's path parameters in path
// order, unescaped: the room in /rooms/{id}, the room and the member in
// /rooms/{room_id}/members/{member_id}.
func pathValues(route *routers.Route, params map[string]string) []string {
	var out []string
	for _, m := range pathParamPattern.FindAllStringSubmatch(route.Path, -1) {
		v := params[strings.TrimSuffix(m[1], "*")]
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		out = append(out, v)
	}
	return out
}

// respond builds the answer to a validated request: the success response
// generated from the document, with the operations of the store backed by
// it. The caller holds s.mu.
func (s *Server) respond(route *routers.Route, params map[string]string, query url.Values, reqBody []byte) answer {
	op := route.Operation
	status, schema := successResponse(op)
	var body any
	if schema != nil {
		body = sample(schema)
	}
	obj, _ := body.(map[string]any)
	if obj == nil {
		obj = map[string]any{}
	}
	notFound := func(what string) answer { return answer{errorStatus(op), errorBody(what + " not found")} }
	path := pathValues(route, params)
	arg := func(i int) string {
		if i < len(path) {
			return path[i]
		}
		return ""
	}
	now := s.now()
	st := s.store
	if isCreatePages(op) {
		if _, ok := st.rooms.get(arg(0)); !ok {
			return notFound("room")
		}
		var requested []any
		_ = json.Unmarshal(reqBody, &requested) // validated already: an array of pages
		return answer{status, st.createPages(schema, obj, requested, now)}
	}
	kind, ok := classify(op)
	if !ok {
		return answer{status, body}
	}
	var fields map[string]any
	if len(reqBody) > 0 {
		_ = json.Unmarshal(reqBody, &fields) // validated already; a non-object simply has no fields
	}
	fields = requestFields(op, fields)
	names := resourceNames[kind.res]

	// The collection the operation works on; rooms' members and sessions
	// need their room.
	var coll *collection
	switch kind.res {
	case resUsers:
		coll = st.users
	case resRooms:
		coll = st.rooms
	case resMembers, resSessions:
		if _, ok := st.rooms.get(arg(0)); !ok {
			return notFound("room")
		}
		if kind.res == resMembers {
			coll = st.roomMembers(arg(0))
		} else {
			coll = st.roomSessions(arg(0))
		}
	}

	var one map[string]any
	switch kind.verb {
	case verbList:
		list(op, obj, names[1], coll, query)
		return answer{status, obj}
	case verbCreate:
		switch kind.res {
		case resUsers:
			id, _ := fields["user_id"].(string)
			if id == "" {
				return answer{errorStatus(op), errorBody("user_id is required")}
			}
			one = st.putUser(id, fields, now)
		case resRooms:
			// A member's user_id is "`user_id` of the user in application
			// (workspace) scope" here, and "`user_id` of the user" in
			// CreateMember: a user that exists. So CreateRoom refuses an
			// unknown member user as CreateMember does (the same status
			// and "user not found"), and creates nothing.
			if members, ok := fields["members"].([]any); ok {
				for _, m := range members {
					if m, ok := m.(map[string]any); ok {
						if _, ok := st.users.get(fmt.Sprint(m["user_id"])); !ok {
							return notFound("user")
						}
					}
				}
			}
			one = st.createRoom(fields, now)
		case resMembers:
			if _, ok := st.users.get(fmt.Sprint(fields["user_id"])); !ok {
				return notFound("user")
			}
			one = st.addMember(arg(0), fields)
		}
	case verbGet:
		switch kind.res {
		case resMembers:
			one, ok = st.member(arg(0), arg(1))
		default:
			one, ok = coll.get(path[len(path)-1])
		}
		if !ok {
			return notFound(names[0])
		}
	case verbUpdate:
		switch kind.res {
		case resUsers:
			one, ok = coll.get(arg(0))
			if ok {
				coll.merge(one, fields, "user_id")
				coll.stamp(one, "updated_at", now)
				one = coll.set(arg(0), one, st.next)
			}
		case resRooms:
			one, ok = st.updateRoom(arg(0), fields, now)
		case resMembers:
			one, ok = st.member(arg(0), arg(1))
			if ok {
				coll.merge(one, fields, "id", "room_id", "user_id")
				one = coll.set(one["id"].(string), one, st.next)
			}
		}
		if !ok {
			return notFound(names[0])
		}
	case verbDelete:
		switch kind.res {
		case resRooms:
			one, ok = st.deleteRoom(arg(0))
		default:
			id := path[len(path)-1]
			one, ok = coll.get(id)
			delete(coll.items, id)
		}
		if !ok {
			return notFound(names[0])
		}
	}
	obj[names[0]] = one
	return answer{status, obj}
}

// requestFields keeps the fields of a request body that the operation's
// request schema declares. Validation lets others through (a schema allows
// additional properties unless it says otherwise), but Pagecall reads only
// what it declares: a CreateUser that sends an access_token, or a
// CreateRoom that sends an id, an application_id or a created_at, does not
// set what the server mints.
func requestFields(op *openapi3.Operation, fields map[string]any) map[string]any {
	declared := map[string]bool{}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		declaredProperties(jsonBodySchema(op.RequestBody.Value.Content), declared, 0)
	}
	for k := range fields {
		if !declared[k] {
			delete(fields, k)
		}
	}
	return fields
}

// declaredProperties adds the names of the properties ref declares, its
// own and those of the schemas it combines, to names.
func declaredProperties(ref *openapi3.SchemaRef, names map[string]bool, depth int) {
	if ref == nil || ref.Value == nil || depth > maxSampleDepth {
		return
	}
	for name := range ref.Value.Properties {
		names[name] = true
	}
	for _, parts := range []openapi3.SchemaRefs{ref.Value.AllOf, ref.Value.OneOf, ref.Value.AnyOf} {
		for _, part := range parts {
			declaredProperties(part, names, depth+1)
		}
	}
}

// list answers a list operation: the objects that pass the filters (query
// parameters that name a property of the resource), the page that offset
// and limit select when the operation declares them, and the paging.
func list(op *openapi3.Operation, obj map[string]any, prop string, coll *collection, query url.Values) {
	declared := map[string]bool{}
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
			declared[p.Value.Name] = true
		}
	}
	filters := map[string]string{}
	for name := range query {
		if declared[name] && name != "offset" && name != "limit" {
			filters[name] = query.Get(name)
		}
	}
	all := coll.list(func(o map[string]any) bool { return matches(coll, o, filters) })
	if query.Has("is_connecting") && declared["is_connecting"] {
		// Sessions: connected means not yet disconnected.
		want, _ := strconv.ParseBool(query.Get("is_connecting"))
		all = slices.DeleteFunc(all, func(o map[string]any) bool { _, gone := o["disconnected_at"]; return gone == want })
	}
	offset, limit := 0, len(all)
	paged := declared["offset"] && declared["limit"]
	if paged {
		limit = defaultPageLimit
		if n, err := strconv.Atoi(query.Get("limit")); err == nil && n >= 0 {
			limit = n
		}
		if n, err := strconv.Atoi(query.Get("offset")); err == nil && n > 0 {
			offset = n
		}
	}
	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	items := make([]any, len(page))
	for i, o := range page {
		items[i] = o
	}
	obj[prop] = items
	if p, ok := obj["paging"].(map[string]any); ok {
		p["offset"], p["limit"], p["total"] = offset, limit, len(all)
	}
}

// defaultPageLimit is the page size of a list without a limit: Paging.limit's
// default in the document.
const defaultPageLimit = 30

// errorBody is the JSON body of every error the mock sends.
func errorBody(msg string) map[string]any { return map[string]any{"message": msg} }
