package pagecalltest

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// ControlPrefix is the path prefix of the mock's control endpoint, outside
// Pagecall's API (whose paths start with the document's base path, /v1).
const ControlPrefix = "/_mock/"

// ControlTriggerSessionPath is the control endpoint that runs
// Server.TriggerSession: POST a TriggerRequest, get a TriggerResult.
const ControlTriggerSessionPath = ControlPrefix + "trigger/session"

// WithControlEndpoint makes the server answer its control endpoint under
// ControlPrefix, for programs that drive the mock from outside the process
// (pagecall trigger). It is off by default: a test calls the Server's
// methods instead.
//
// The endpoint takes the API's bearer key, and answers only requests from
// a loopback address addressed to a loopback host (so that a web page
// cannot reach it by rebinding a name of its own to 127.0.0.1). Its
// requests are not validated against the document, faulted, or logged in
// Requests.
func WithControlEndpoint() Option { return func(c *config) { c.control = true } }

// TriggerRequest is the body of a POST to ControlTriggerSessionPath.
type TriggerRequest struct {
	// RoomID is the room.
	RoomID string `json:"room_id"`
	// UserID is the user who joins or leaves.
	UserID string `json:"user_id"`
	// Action is ActionSessionJoined or ActionSessionLeft.
	Action string `json:"action"`
}

// TriggerResult is the answer of ControlTriggerSessionPath: what was
// delivered and how the receiver answered (status 200), what failed after
// the session changed (502, with Message), or only a Message for a
// refusal that changed nothing (400, 401, 403, 404, 405, 409, 503).
type TriggerResult struct {
	// Action repeats the request's action.
	Action string `json:"action,omitempty"`
	// RoomID repeats the request's room.
	RoomID string `json:"room_id,omitempty"`
	// UserID repeats the request's user.
	UserID string `json:"user_id,omitempty"`
	// URL is where the webhook went.
	URL string `json:"url,omitempty"`
	// Status is the receiver's answer to the webhook; 0 if none came.
	Status int `json:"status,omitempty"`
	// Event is the webhook's body.
	Event json.RawMessage `json:"event,omitempty"`
	// Message says what went wrong.
	Message string `json:"message,omitempty"`
}

// serveControl answers a request under ControlPrefix.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, res TriggerResult) {
		s.write(w, status, mustJSON(res))
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || !isLoopbackHost(host) || !isLoopbackHost(hostOnly(r.Host)) {
		answer(http.StatusForbidden, TriggerResult{Message: "the control endpoint answers loopback only"})
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.apiKey)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pagecall"`)
		answer(http.StatusUnauthorized, TriggerResult{Message: "missing or invalid API key"})
		return
	}
	if r.URL.Path != ControlTriggerSessionPath {
		answer(http.StatusNotFound, TriggerResult{Message: fmt.Sprintf("no control endpoint %s (there is %s)", r.URL.Path, ControlTriggerSessionPath)})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(http.StatusMethodNotAllowed, TriggerResult{Message: "use POST"})
		return
	}
	var req TriggerRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err == nil && (req.RoomID == "" || req.UserID == "") {
		err = errors.New("room_id and user_id are required")
	}
	if err != nil {
		answer(http.StatusBadRequest, TriggerResult{Message: "request body: " + err.Error()})
		return
	}

	d, err := s.triggerSession(r.Context(), req.RoomID, req.UserID, req.Action)
	res := TriggerResult{Action: req.Action, RoomID: req.RoomID, UserID: req.UserID, URL: d.URL, Status: d.Status, Event: d.Event}
	if err != nil {
		res.Message = err.Error()
	}
	answer(controlStatus(err), res)
}

// controlStatus is the control endpoint's status for TriggerSession's
// error.
func controlStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrUnknownAction):
		return http.StatusBadRequest
	case errors.Is(err, ErrRoomNotFound), errors.Is(err, ErrUserNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrNotMember), errors.Is(err, ErrRoomTerminated), errors.Is(err, ErrNoOpenSession),
		errors.Is(err, ErrNoWebhook), errors.Is(err, ErrNotLoopback):
		return http.StatusConflict
	case errors.Is(err, ErrClosed):
		return http.StatusServiceUnavailable
	default: // the session changed, the delivery failed
		return http.StatusBadGateway
	}
}

// hostOnly is the host of a Host header, without the port.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}
