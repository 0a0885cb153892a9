package pagecalltest

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// userOp says which user operation, if any, an operation is. The store finds
// them by operationId, never by path, so that /users/{id} (2023 documents)
// and /users/{user_id} (2024 on) work alike.
type userOp int

const (
	notUserOp userOp = iota
	opListUsers
	opCreateUser
	opGetUser
	opUpdateUser
	opDeleteUser
)

func classify(op *openapi3.Operation) userOp {
	switch strings.ToLower(op.OperationID) {
	case "listusers":
		return opListUsers
	case "createuser":
		return opCreateUser
	case "getuser":
		return opGetUser
	case "updateuser":
		return opUpdateUser
	case "deleteuser":
		return opDeleteUser
	}
	return notUserOp
}

// userStore holds users as JSON objects shaped by the document's User schema.
// It is not safe for concurrent use; Server guards it with its mutex.
type userStore struct {
	schema *openapi3.SchemaRef // the User schema, nil if the document has no user operation
	users  map[string]map[string]any
}

// newUserStore finds the User schema in the success response of the first
// user operation (property `user`, or the items of `users`) and seeds the
// store with the user that the schema's examples describe.
func newUserStore(doc *openapi3.T) *userStore {
	st := &userStore{users: map[string]map[string]any{}}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if classify(op) == notUserOp {
				continue
			}
			_, body := successResponse(op)
			if body == nil || body.Value == nil {
				continue
			}
			if p := body.Value.Properties["user"]; p != nil {
				st.schema = p
			} else if p := body.Value.Properties["users"]; p != nil && p.Value != nil && p.Value.Items != nil {
				st.schema = p.Value.Items
			}
			if st.schema != nil {
				break
			}
		}
	}
	if st.schema != nil {
		seed := st.template()
		if id, ok := seed["user_id"].(string); ok && id != "" {
			st.users[id] = seed
		}
	}
	return st
}

// template is a fresh user built from the User schema's examples.
func (st *userStore) template() map[string]any {
	if st.schema == nil {
		return map[string]any{}
	}
	m, _ := sample(st.schema).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

func (st *userStore) get(id string) (map[string]any, bool) {
	u, ok := st.users[id]
	if !ok {
		return nil, false
	}
	return maps.Clone(u), true
}

// put creates or replaces the user id with the template overlaid by fields.
// Pagecall documents that creating an existing user_id overrides that user.
func (st *userStore) put(id string, fields map[string]any, now time.Time) map[string]any {
	u := st.template()
	st.merge(u, fields)
	u["user_id"] = id
	st.stamp(u, "created_at", now)
	st.stamp(u, "updated_at", now)
	st.users[id] = u
	return maps.Clone(u)
}

// update merges fields into an existing user.
func (st *userStore) update(id string, fields map[string]any, now time.Time) (map[string]any, bool) {
	u, ok := st.users[id]
	if !ok {
		return nil, false
	}
	st.merge(u, fields)
	st.stamp(u, "updated_at", now)
	return maps.Clone(u), true
}

func (st *userStore) remove(id string) (map[string]any, bool) {
	u, ok := st.users[id]
	delete(st.users, id)
	return u, ok
}

func (st *userStore) list() []any {
	out := make([]any, 0, len(st.users))
	for _, id := range slices.Sorted(maps.Keys(st.users)) {
		out = append(out, maps.Clone(st.users[id]))
	}
	return out
}

// merge copies the request fields the User schema declares (and only those,
// so the stored user stays valid for it) into u. The request was already
// validated against its own schema.
func (st *userStore) merge(u, fields map[string]any) {
	if st.schema == nil || st.schema.Value == nil {
		return
	}
	for k, v := range fields {
		p, ok := st.schema.Value.Properties[k]
		if ok && k != "user_id" && p.Value != nil && !p.Value.ReadOnly && validFor(p.Value, v) {
			u[k] = v
		}
	}
}

// stamp sets a date-time field to now if the User schema declares it.
func (st *userStore) stamp(u map[string]any, field string, now time.Time) {
	if st.schema == nil || st.schema.Value == nil {
		return
	}
	if p, ok := st.schema.Value.Properties[field]; ok && p.Value != nil && p.Value.Type.Is(openapi3.TypeString) {
		u[field] = now.UTC().Format(time.RFC3339Nano)
	}
}
