// Package pagecalltest runs a mock Pagecall API on a loopback address, in the
// spirit of net/http/httptest and stripe-mock, with fault injection.
//
// The mock is generic: it serves every operation of the OpenAPI document it
// is given (by default the embedded api.OpenAPI with api.Overlay applied),
// validates each request against it (route, parameters, body, and a real
// bearer-token check), and answers with a response built from the
// document's examples, defaults and schemas.
//
// Users, rooms and their members live in an in-memory store, so the mock
// answers like Pagecall across calls: what CreateRoom returns, GetRoom and
// ListRooms return; CreateMember adds to ListMembers (GetMember takes the
// member's ID or its user's); UpdateRoom with is_terminated: true ends a
// room; ListRooms honours offset, limit and the filters that name a room
// property (name, layout, is_terminated) and reports true paging; deletes
// remove. CreateUser is an upsert by user_id. Operations are found by
// operationId, never by path, and every object is shaped by the document's
// own schema, so the store works on every published version. It starts with
// the objects the examples describe (user external_user_102932, room
// 000585f36eed9e8fb6b655b4 and a member of it), so that the examples of path
// parameters name objects that exist.
//
// The mock mints what Pagecall mints, never the document's examples: each
// room, member, session and page gets an ID of its own (24 hex digits, as
// Pagecall's), each user an access token of its own from crypto/rand (the
// seeded user too), and every room the server's workspace ID
// (application_id). A minted value stays for the object's life: a get or
// a list gives what the create answered, and an upsert by CreateUser or an
// UpdateUser keeps the token. A new object holds what the request sent,
// what the server minted and the document's defaults; an optional field
// nobody set is left out (a user created without a name has none). A
// request field its operation does not declare is not stored, so a caller
// cannot set a token or an ID.
//
// Errors the mock itself produces carry a JSON body {"message": "..."}, and
// for an operation of the document their status is one the operation
// declares. A missing or wrong key gets the status the document gives it:
// 401 where the operation declares 401, otherwise the declared 4xx that
// speaks of authentication (Pagecall declares 400, "Invalid Parameters
// Supplied or Unauthenticated or Unauthorized"). A request that fails
// validation gets 400, and an unknown user, room or member ("room not
// found") the operation's own error status (404, or its lowest declared
// 4xx); any other client error the operation does not declare (a body over
// the limit) becomes its lowest declared 4xx. Outside the document's
// operations, an unknown route gets 404 and a method the path does not
// declare 405. A test that wants an answer the document does not declare,
// such as a 401, injects it as a Fault.
//
// Rooms created with a webhook get Pagecall's session webhooks:
// Server.TriggerSession makes a user join or leave a room, keeps the room's
// sessions (ListRoomSessions) and members consistent, and POSTs the
// documented event to the room's webhook URL with its headers. The mock
// delivers to loopback URLs only. WithControlEndpoint offers the same to
// other processes under ControlPrefix (what "pagecall trigger" calls).
//
// Server.Inject queues faults (an error status with Retry-After, a
// connection reset, a delay, a truncated body) for the next matching
// requests, or for a time window (a rate limit), at a random rate, or for
// N requests held and answered at the same moment (a blip); see Fault.
// Server.Requests returns what the server received.
//
// Server.PlantDrift makes successful answers leave the document on purpose
// (a field retyped, removed, set to null, given an unknown enum value, or
// an extra field, for chosen operations and JSON pointers), to see how a
// client copes when Pagecall answers off-spec; see Drift.
//
// The package does not import "testing"; NewTestServer takes the small TB
// interface instead, so that non-test programs can link the package.
package pagecalltest
