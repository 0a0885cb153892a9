// Package pagecalltest runs a mock Pagecall API on a loopback address, in the
// spirit of net/http/httptest and stripe-mock, with fault injection.
//
// The mock is generic: it serves every operation of the OpenAPI document it
// is given (by default the embedded api.OpenAPI with api.Overlay applied),
// validates each request against it (route, parameters, body, and a real
// bearer-token check), and answers with a response built from the
// document's examples, defaults and schemas. Users live in a small in-memory
// store, found by operationId (ListUsers, CreateUser, GetUser, UpdateUser,
// DeleteUser), seeded with the document's example user.
//
// Errors the mock itself produces carry a JSON body {"message": "..."}:
// 401 for a missing or wrong key, 404 for an unknown route, 405 for a method
// the path does not declare, 400 for a request that fails validation, and
// the operation's own error status (404, or its lowest declared 4xx) for an
// unknown user.
//
// Server.Inject queues faults (an error status with Retry-After, a
// connection reset, a delay, a truncated body) for the next matching
// requests, or for a time window (a rate limit), at a random rate, or for
// N requests held and answered at the same moment (a blip); see Fault.
// Server.Requests returns what the server received.
//
// The package does not import "testing"; NewTestServer takes the small TB
// interface instead, so that non-test programs can link the package.
package pagecalltest
