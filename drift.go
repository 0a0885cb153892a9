package pagecall

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// This file holds what the SDK does with the drift of a 2xx answer (see
// FieldDrift and decode.go): Pagecall said the work was done, so the call
// succeeds with every field that did fit, and the fields that did not are
// reported (ResponseInfo.Drift, a warning in the log once per client, or
// with WithStrictResponses an error).

// wholeBodyDrifted reports whether the body itself, not a field of it, did
// not fit (a number where the spec promises an object): nothing could be
// decoded, a body-level failure that is ErrMalformedResponse in both modes.
func wholeBodyDrifted(drift []FieldDrift) bool {
	return len(drift) > 0 && drift[0].Pointer == ""
}

// driftError is what a strict client returns for a 2xx answer with drift.
func driftError(op *operation, hr *http.Response, attempts int, drift []FieldDrift) error {
	return &RequestError{
		Method: op.method, Path: requestPath(hr), Attempts: attempts, StatusCode: hr.StatusCode, Drift: drift,
		Err: fmt.Errorf("%w: the server reported success (%d %s), but the answer left the spec at %s",
			ErrMalformedResponse, hr.StatusCode, http.StatusText(hr.StatusCode), driftSummary(drift)),
	}
}

// driftSummary lists the first few drifts of an answer.
func driftSummary(drift []FieldDrift) string {
	const most = 3
	parts := make([]string, 0, most+1)
	for i, d := range drift {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(drift)-most))
			break
		}
		parts = append(parts, d.String())
	}
	return strings.Join(parts, "; ")
}

// driftLog is a client's drift state: which drift it has logged, so that
// each method, path and pointer is logged once (a Client.Do path holds
// values, so at most maxDriftKeys are remembered; past them drift is
// logged each time), and the shapes of its models (required.go).
type driftLog struct {
	seen   sync.Map
	kept   atomic.Int64 // the keys in seen
	shapes shapeCache
}

// maxDriftKeys bounds what a client remembers of the drift it logged.
const maxDriftKeys = 1024

// first reports whether key has not been logged yet, and remembers it while
// there is room.
func (dl *driftLog) first(key string) bool {
	if _, dup := dl.seen.Load(key); dup {
		return false
	}
	if dl.kept.Load() >= maxDriftKeys {
		return true
	}
	if _, dup := dl.seen.LoadOrStore(key, true); dup {
		return false
	}
	dl.kept.Add(1)
	return true
}

// reportDrift logs each drift of an answer at warn level, once per method,
// path (the spec's template, or a Client.Do call's path) and pointer for the
// client.
func (l *requestLoop) reportDrift(ctx context.Context, op *operation, hr *http.Response, drift []FieldDrift) {
	if !l.log.Enabled(ctx, slog.LevelWarn) {
		return
	}
	path := op.path
	if path == "" {
		path = requestPath(hr) // Client.Do: the spec has no template for it
	}
	for _, d := range drift {
		if !l.drift.first(op.method + " " + path + " " + d.Pointer) {
			continue
		}
		l.log.WarnContext(ctx, "pagecall: the answer left the spec; the call succeeded with the fields that fit",
			"method", op.method, "path", path, "status", hr.StatusCode, "pointer", d.Pointer, "reason", d.Reason)
	}
}
