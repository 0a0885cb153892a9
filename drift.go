package pagecall

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
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

// driftLog remembers which drift has been logged, so that each operation
// and pointer is logged once per client.
type driftLog struct{ seen sync.Map }

// reportDrift logs each drift of an answer at warn level, once per
// operation and pointer for the client.
func (l *requestLoop) reportDrift(ctx context.Context, op *operation, hr *http.Response, drift []FieldDrift) {
	if !l.log.Enabled(ctx, slog.LevelWarn) {
		return
	}
	for _, d := range drift {
		key := op.method + " " + op.path + " " + d.Pointer
		if _, dup := l.drift.seen.LoadOrStore(key, true); dup {
			continue
		}
		l.log.WarnContext(ctx, "pagecall: the answer left the spec; the call succeeded with the fields that fit",
			"method", op.method, "path", op.path, "status", hr.StatusCode, "pointer", d.Pointer, "reason", d.Reason)
	}
}
