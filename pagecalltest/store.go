package pagecalltest

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// The store keeps users, rooms, their members and their sessions, so that
// what one call creates the next one finds, as against Pagecall. Operations
// are recognised by operationId, never by path, so that /users/{id} (2023
// documents) and /users/{user_id} (2024 on) work alike, and every resource
// is shaped by the document's own schema for it: the store holds JSON
// objects that are valid for that schema, built from what it requires and
// defaults (fresh), overlaid with the request fields the schema declares,
// and given the IDs and tokens the server mints (mint.go).

// resource is a kind of object the store keeps.
type resource int

const (
	resUsers resource = iota + 1
	resRooms
	resMembers
	resSessions
)

// names of a resource in response bodies: the property that holds one of
// them, and the one that holds a list.
var resourceNames = map[resource][2]string{
	resUsers:    {"user", "users"},
	resRooms:    {"room", "rooms"},
	resMembers:  {"member", "members"},
	resSessions: {"session", "sessions"},
}

// verb is what an operation does to its resource.
type verb int

const (
	verbList verb = iota + 1
	verbCreate
	verbGet
	verbUpdate
	verbDelete
)

// opKind is what the store does for an operation.
type opKind struct {
	res  resource
	verb verb
}

// storeOps maps lower-case operationIds to what the store does. Operations
// not listed are answered from the document's examples alone.
var storeOps = map[string]opKind{
	"listusers":    {resUsers, verbList},
	"createuser":   {resUsers, verbCreate},
	"getuser":      {resUsers, verbGet},
	"updateuser":   {resUsers, verbUpdate},
	"deleteuser":   {resUsers, verbDelete},
	"listrooms":    {resRooms, verbList},
	"createroom":   {resRooms, verbCreate},
	"getroom":      {resRooms, verbGet},
	"updateroom":   {resRooms, verbUpdate},
	"deleteroom":   {resRooms, verbDelete},
	"listmembers":  {resMembers, verbList},
	"createmember": {resMembers, verbCreate},
	"getmember":    {resMembers, verbGet},
	"updatemember": {resMembers, verbUpdate},
	// ListRoomSessions is api/overlay.yaml's name for the published
	// GetRoomSessions; a document served without the overlay keeps that.
	"listroomsessions": {resSessions, verbList},
	"getroomsessions":  {resSessions, verbList},
}

func classify(op *openapi3.Operation) (opKind, bool) {
	k, ok := storeOps[strings.ToLower(op.OperationID)]
	return k, ok
}

// Webhook is where the mock delivers a room's webhooks (TriggerSession):
// the URL and headers given when the room was created.
type Webhook struct {
	URL     string
	Headers map[string]string
}

// entry is one stored object with the sequence number that orders lists
// (creation order).
type entry struct {
	seq int
	obj map[string]any
}

// collection holds the objects of one resource, keyed by key.
type collection struct {
	schema *openapi3.SchemaRef // nil if the document has no such resource
	items  map[string]*entry
}

func newCollection() *collection { return &collection{items: map[string]*entry{}} }

// template is an object built from the schema's examples: the objects the
// examples describe, which the store is seeded with.
func (c *collection) template() map[string]any {
	if c.schema == nil {
		return map[string]any{}
	}
	m, _ := sample(c.schema).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// fresh is a new object as Pagecall creates it, before the request's
// fields go in: the properties the schema requires (sampled, so that the
// object stays valid for it), and those it gives a default. An optional
// property's example is no value of a new object: a user created without a
// name is not named "scotty", nor does a new room have the example's
// thumbnail. The request sets such a property, or nobody does.
func (c *collection) fresh() map[string]any {
	m := c.template()
	if c.schema == nil || c.schema.Value == nil {
		return m
	}
	sc := c.schema.Value
	for k := range m {
		p, declared := sc.Properties[k]
		switch {
		case !declared || p.Value == nil || slices.Contains(sc.Required, k):
			// kept: the object needs it to be valid
		case p.Value.Default != nil && validFor(p.Value, p.Value.Default):
			m[k] = clone(p.Value.Default)
		default:
			delete(m, k)
		}
	}
	return m
}

// merge copies the fields the schema declares (and only those, so that the
// object stays valid for it) into obj, leaving out the keys in keep. The
// request was already validated against its own schema; a field whose type
// differs in the resource's schema is skipped.
func (c *collection) merge(obj, fields map[string]any, keep ...string) {
	if c.schema == nil || c.schema.Value == nil {
		return
	}
	for k, v := range fields {
		p, ok := c.schema.Value.Properties[k]
		if ok && !slices.Contains(keep, k) && p.Value != nil && !p.Value.ReadOnly && validFor(p.Value, v) {
			obj[k] = v
		}
	}
}

// set stores obj under id, keeping the creation order of an object it
// replaces, and returns a copy.
func (c *collection) set(id string, obj map[string]any, seq func() int) map[string]any {
	e, ok := c.items[id]
	if !ok {
		e = &entry{seq: seq()}
		c.items[id] = e
	}
	e.obj = obj
	return maps.Clone(obj)
}

func (c *collection) get(id string) (map[string]any, bool) {
	e, ok := c.items[id]
	if !ok {
		return nil, false
	}
	return maps.Clone(e.obj), true
}

// list returns copies of the objects that keep accepts, in creation order.
func (c *collection) list(keep func(map[string]any) bool) []map[string]any {
	entries := slices.Collect(maps.Values(c.items))
	slices.SortFunc(entries, func(a, b *entry) int { return cmp.Compare(a.seq, b.seq) })
	var out []map[string]any
	for _, e := range entries {
		if keep == nil || keep(e.obj) {
			out = append(out, maps.Clone(e.obj))
		}
	}
	return out
}

// has reports whether the schema declares the property.
func (c *collection) has(prop string) bool {
	return c.schema != nil && c.schema.Value != nil && c.schema.Value.Properties[prop] != nil
}

// stamp sets a date-time property to t if the schema declares it as a string.
func (c *collection) stamp(obj map[string]any, prop string, t time.Time) {
	if c.has(prop) && c.schema.Value.Properties[prop].Value.Type.Is(openapi3.TypeString) {
		obj[prop] = t.UTC().Format(time.RFC3339Nano)
	}
}

// store is the mock's state. It is not safe for concurrent use; Server
// guards it with its mutex.
type store struct {
	users    *collection            // by user_id
	rooms    *collection            // by id
	members  map[string]*collection // by room id, then member id
	sessions map[string]*collection // by room id, then session id
	webhooks map[string]Webhook     // by room id, for rooms created with one
	// memberSchema and sessionSchema shape every room's collections.
	memberSchema, sessionSchema *openapi3.SchemaRef
	seq                         int
	mint                        *minter
	// workspace is the application_id of every room: one mock server is
	// one Pagecall workspace.
	workspace string
	// seedUser is the ID of the user the examples describe, seeded at
	// start ("" if the document has none).
	seedUser string
}

// newStore finds each resource's schema in the success responses of its
// operations (the `user` property, or the items of `users`, and so on) and
// seeds the store with the objects the document's examples describe: the
// example user, the example room, and the example member of that room, so
// that the examples of path parameters name objects that exist.
func newStore(doc *openapi3.T) *store {
	st := &store{
		users:    newCollection(),
		rooms:    newCollection(),
		members:  map[string]*collection{},
		sessions: map[string]*collection{},
		webhooks: map[string]Webhook{},
		mint:     newMinter(),
	}
	st.workspace = st.mint.id(time.Now())
	schemas := map[resource]*openapi3.SchemaRef{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			k, ok := classify(op)
			if !ok || schemas[k.res] != nil {
				continue
			}
			_, body := successResponse(op)
			if body == nil || body.Value == nil {
				continue
			}
			names := resourceNames[k.res]
			if p := body.Value.Properties[names[0]]; p != nil {
				schemas[k.res] = p
			} else if p := body.Value.Properties[names[1]]; p != nil && p.Value != nil && p.Value.Items != nil {
				schemas[k.res] = p.Value.Items
			}
		}
	}
	st.users.schema, st.rooms.schema = schemas[resUsers], schemas[resRooms]
	st.memberSchema, st.sessionSchema = schemas[resMembers], schemas[resSessions]

	if st.users.schema != nil {
		u := st.users.template()
		if id, _ := u["user_id"].(string); id != "" {
			if st.users.has("access_token") {
				u["access_token"] = accessToken() // a secret: never the example's
			}
			st.users.set(id, u, st.next)
			st.seedUser = id
		}
	}
	if st.rooms.schema != nil {
		r := st.rooms.template()
		if id, _ := r["id"].(string); id != "" {
			if st.rooms.has("application_id") {
				r["application_id"] = st.workspace
			}
			st.rooms.set(id, r, st.next)
			if st.memberSchema != nil {
				m := st.roomMembers(id).template()
				if mid, _ := m["id"].(string); mid != "" {
					m["room_id"] = id
					st.roomMembers(id).set(mid, m, st.next)
				}
			}
		}
	}
	return st
}

// next returns the next sequence number, which orders lists.
func (st *store) next() int { st.seq++; return st.seq }

// newID returns a new ID for a room, member, session or page.
func (st *store) newID(now time.Time) string { return st.mint.id(now) }

// roomMembers and roomSessions return a room's collection, made on first use.
func (st *store) roomMembers(roomID string) *collection {
	return perRoom(st.members, st.memberSchema, roomID)
}

func (st *store) roomSessions(roomID string) *collection {
	return perRoom(st.sessions, st.sessionSchema, roomID)
}

func perRoom(m map[string]*collection, schema *openapi3.SchemaRef, roomID string) *collection {
	c := m[roomID]
	if c == nil {
		c = &collection{schema: schema, items: map[string]*entry{}}
		m[roomID] = c
	}
	return c
}

// putUser creates or replaces the user id. Pagecall documents that creating
// an existing user_id overrides that user; the user lives on, and keeps
// its creation time and its access token. A new user gets a new token,
// unless fields give one (AddUser may; a request may not, see
// requestFields).
func (st *store) putUser(id string, fields map[string]any, now time.Time) map[string]any {
	u := st.users.fresh()
	st.users.merge(u, fields, "user_id")
	u["user_id"] = id
	old, existed := st.users.get(id)
	if existed {
		if created, ok := old["created_at"]; ok {
			u["created_at"] = created
		}
	} else {
		st.users.stamp(u, "created_at", now)
	}
	if _, given := u["access_token"]; !given && st.users.has("access_token") {
		if tok, ok := old["access_token"]; ok {
			u["access_token"] = tok
		} else {
			u["access_token"] = accessToken()
		}
	}
	st.users.stamp(u, "updated_at", now)
	return st.users.set(id, u, st.next)
}

// createRoom stores a new room from a CreateRoom request: its declared
// fields, a new ID in the server's workspace, not terminated, and its
// members and webhook. A new room has not met nor ended: fresh leaves out
// the example's meeting time, start and end.
func (st *store) createRoom(fields map[string]any, now time.Time) map[string]any {
	r := st.rooms.fresh()
	if st.rooms.has("record") {
		r["record"] = true // CreateRoomRequest.record defaults to true
	}
	st.rooms.merge(r, fields, "id")
	id := st.newID(now)
	r["id"] = id
	if st.rooms.has("application_id") {
		r["application_id"] = st.workspace
	}
	if st.rooms.has("is_terminated") {
		r["is_terminated"] = false
	}
	st.rooms.stamp(r, "created_at", now)
	st.rooms.stamp(r, "updated_at", now)
	out := st.rooms.set(id, r, st.next)

	if members, ok := fields["members"].([]any); ok {
		for _, m := range members {
			if m, ok := m.(map[string]any); ok {
				st.addMember(id, m)
			}
		}
	}
	if wh, ok := fields["webhook"].(map[string]any); ok {
		hook := Webhook{Headers: map[string]string{}}
		hook.URL, _ = wh["url"].(string)
		if hs, ok := wh["headers"].(map[string]any); ok {
			for k, v := range hs {
				hook.Headers[k] = fmt.Sprint(v)
			}
		}
		st.webhooks[id] = hook
	}
	return out
}

// updateRoom applies an UpdateRoom request. is_terminated: true ends the
// room (terminated_at is set); false reopens it.
func (st *store) updateRoom(id string, fields map[string]any, now time.Time) (map[string]any, bool) {
	r, ok := st.rooms.get(id)
	if !ok {
		return nil, false
	}
	st.rooms.merge(r, fields, "id")
	if t, ok := fields["is_terminated"].(bool); ok {
		if t {
			st.rooms.stamp(r, "terminated_at", now)
		} else {
			delete(r, "terminated_at")
		}
	}
	st.rooms.stamp(r, "updated_at", now)
	return st.rooms.set(id, r, st.next), true
}

func (st *store) deleteRoom(id string) (map[string]any, bool) {
	r, ok := st.rooms.get(id)
	if ok {
		delete(st.rooms.items, id)
		delete(st.members, id)
		delete(st.sessions, id)
		delete(st.webhooks, id)
	}
	return r, ok
}

// addMember adds a user to a room, or updates the user's membership: one
// member per user and room. The type defaults to the user's
// default_member_type, then to guest.
func (st *store) addMember(roomID string, fields map[string]any) map[string]any {
	members := st.roomMembers(roomID)
	userID, _ := fields["user_id"].(string)
	var m map[string]any
	id := ""
	for _, e := range members.list(func(o map[string]any) bool { return o["user_id"] == userID }) {
		m, id = e, e["id"].(string)
	}
	if m == nil {
		m = members.fresh()
		id = st.newID(time.Now())
		if u, ok := st.users.get(userID); ok && members.has("type") {
			if t, ok := u["default_member_type"].(string); ok && t != "" {
				m["type"] = t
			}
		}
	}
	members.merge(m, fields, "id", "room_id")
	m["id"], m["room_id"], m["user_id"] = id, roomID, userID
	return members.set(id, m, st.next)
}

// member finds a room's member by its ID, or by its user's ID.
func (st *store) member(roomID, id string) (map[string]any, bool) {
	members := st.roomMembers(roomID)
	if m, ok := members.get(id); ok {
		return m, true
	}
	for _, m := range members.list(func(o map[string]any) bool { return o["user_id"] == id }) {
		return m, true
	}
	return nil, false
}

// matches reports whether obj passes the list filters in query: each query
// parameter that names a property of the schema must equal it (a missing
// boolean counts as false).
func matches(c *collection, obj map[string]any, filters map[string]string) bool {
	for name, want := range filters {
		if !c.has(name) {
			continue
		}
		got := obj[name]
		switch v := got.(type) {
		case bool:
			if b, err := strconv.ParseBool(want); err != nil || b != v {
				return false
			}
		case nil:
			if c.schema.Value.Properties[name].Value.Type.Is(openapi3.TypeBoolean) {
				if b, err := strconv.ParseBool(want); err != nil || b {
					return false
				}
			} else {
				return false
			}
		default:
			if fmt.Sprint(v) != want {
				return false
			}
		}
	}
	return true
}
