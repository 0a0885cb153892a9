package main

import (
	"maps"
	"strings"
	"unicode"

	"github.com/pplink/pagecall-go/internal/contract"
)

// This file names the command of each operation: pagecall <resource> <verb>.
// The rules (also in README.md's CLI section) use only the spec's paths,
// methods, tags and operationIds, so a new operation gets its command with
// no hand edits, and the names stay put when operations are added.
//
// Resource: the last literal segment of the path that names one of the
// spec's tags, as written or with an "s" (tags are singular: room, member,
// user). /rooms/{room_id}/members/{member_id} belongs to members, and
// /rooms/{room_id}/message and /rooms/{room_id}/sessions to rooms, whatever
// their tags say (Pagecall tags the first "user" and has no "session" tag).
// A path with no such segment is a resource of its own, named after its
// first segment: /room_templates is room-templates.
//
// Verb: the path's shape below the resource segment decides the usual
// verbs. The collection (nothing below it): GET list, POST create; an item
// (one parameter below it): GET get, PUT or PATCH update, DELETE delete.
// Every other operation takes its operationId, less the words that name the
// resource and, for a GET, a leading "get" or "list": ListRoomSessions is
// rooms sessions, SendRoomMessage rooms send-message, CreateRoomPages rooms
// create-pages (the operationIds are api/overlay.yaml's, the SDK's method
// names). A name that is empty, already taken, or reserved for a
// hand-written command falls back to the whole operationId in kebab case
// (rooms list-room-sessions).
//
// A command that a rename moved keeps its former name as a hidden alias
// for one minor version (formerVerbs).

// formerVerbs maps a command ("resource verb") to the verbs it had before
// a rename, each kept as a hidden alias that warns on stderr. An entry
// goes in the minor version after the one that renamed the command:
//   - v0.x: rooms create-page became rooms create-pages, when the overlay
//     renamed CreateRoomsPage to CreateRoomPages (it creates many pages).
//
// rooms send-message and rooms sessions kept their verbs.
func formerVerbs() map[string][]string {
	return map[string][]string{
		"rooms create-pages": {"create-page"},
	}
}

// nameCommands sets the resource and verb of every operation. tags are the
// tags the operations use; reserved holds "resource verb" names that
// hand-written commands take.
func nameCommands(ops []*apiOp, tags []string, reserved map[string]bool) {
	taken := maps.Clone(reserved)
	if taken == nil {
		taken = map[string]bool{}
	}
	// The usual verbs first, so that they never depend on which other
	// operations the spec has.
	var others []*apiOp
	for _, o := range ops {
		segs := pathSegments(o.path)
		var at int
		o.resource, at = resourceOf(segs, tags)
		o.verb = shapeVerb(o.method, segs[min(at+1, len(segs)):])
		if o.verb == "" || taken[o.resource+" "+o.verb] {
			others = append(others, o)
			continue
		}
		taken[o.resource+" "+o.verb] = true
	}
	for _, o := range others {
		o.verb = operationVerb(o.operationID, o.method, o.resource)
		if o.verb == "" || taken[o.resource+" "+o.verb] {
			o.verb = strings.Join(words(o.operationID), "-")
		}
		taken[o.resource+" "+o.verb] = true
	}
}

// pathSegments splits a path template into its segments.
func pathSegments(path string) []string {
	return strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
}

// resourceOf returns the resource of a path (see the rules above) and the
// index of the segment that names it.
func resourceOf(segs []string, tags []string) (string, int) {
	for i := len(segs) - 1; i >= 0; i-- {
		if _, isParam := contract.ParamName(segs[i]); isParam {
			continue
		}
		for _, tag := range tags {
			if strings.EqualFold(segs[i], tag) || strings.EqualFold(segs[i], tag+"s") {
				return commandWord(segs[i]), i
			}
		}
	}
	for i, s := range segs {
		if _, isParam := contract.ParamName(s); !isParam {
			return commandWord(s), i
		}
	}
	return "api", len(segs) // a path of parameters only
}

// shapeVerb returns the usual verb for a method on what follows the
// resource segment, or "" if the shape has none.
func shapeVerb(method string, below []string) string {
	switch {
	case len(below) == 0:
		switch method {
		case "GET":
			return "list"
		case "POST":
			return "create"
		}
	case len(below) == 1:
		if _, isParam := contract.ParamName(below[0]); !isParam {
			return ""
		}
		switch method {
		case "GET":
			return "get"
		case "PUT", "PATCH":
			return "update"
		case "DELETE":
			return "delete"
		}
	}
	return ""
}

// operationVerb names an operation of no usual shape after its
// operationId, less the words naming its resource and a GET's leading
// "get" or "list".
func operationVerb(operationID, method, resource string) string {
	drop := map[string]bool{}
	for _, w := range strings.Split(resource, "-") {
		drop[w] = true
		drop[strings.TrimSuffix(w, "s")] = true
	}
	var kept []string
	for _, w := range words(operationID) {
		if !drop[w] {
			kept = append(kept, w)
		}
	}
	if method == "GET" && len(kept) > 1 && (kept[0] == "get" || kept[0] == "list") {
		kept = kept[1:]
	}
	return strings.Join(kept, "-")
}

// words splits an identifier into lower-case words at case changes and
// at anything but letters and digits: "roomsSendMessage" and
// "rooms_send_message" are rooms, send, message; "GetHTTPLog" get, http, log.
func words(id string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(id)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			continue
		case unicode.IsUpper(r) && len(cur) > 0:
			prevLower := !unicode.IsUpper(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || nextLower {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return out
}

// commandWord turns a path segment or a name from the spec into a command
// or flag word: lower case, with dashes for underscores (max-meeting-seconds).
func commandWord(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "_", "-")
}

// argName is the placeholder of a path parameter in usage lines: ROOM_ID
// for room_id, and for a bare {id} the resource's singular with _ID (the
// id of rooms is ROOM_ID too).
func argName(param, resource string) string {
	if param == "id" {
		param = strings.TrimSuffix(resource, "s") + "_id"
	}
	return strings.ToUpper(strings.ReplaceAll(param, "-", "_"))
}
