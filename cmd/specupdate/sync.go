package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pplink/pagecall-go/internal/specid"
	"gopkg.in/yaml.v3"
)

// syncOptions configure sync.
type syncOptions struct {
	// AllowBreaking takes the document even with breaking changes, which
	// the report then labels.
	AllowBreaking bool
	// Report is the file the Markdown report is written to; "" for none.
	Report string
	// Outputs is a file that key=value lines are appended to, in the form
	// of GitHub Actions' $GITHUB_OUTPUT; "" for none. The keys: changed,
	// breaking (true or false) and title.
	Outputs string
	// Source says where the document came from, for the report.
	Source string
	// checks are the steps run after the replacement; nil means steps,
	// what make update-spec runs, and the Go API comparison. Tests use
	// historySteps (go test -short), with goAPI to compare the Go API too.
	checks []step
	goAPI  bool
}

// maxReport keeps the report under GitHub's 65,536-character limit for a
// pull request body; the full log is cut to fit.
const maxReport = 60000

// syncSpec is what the spec-sync workflow runs on the document it downloaded:
// the update of update-spec (validate, breaking changes, replace,
// regenerate, build, vet, test, restore on failure), then a Markdown report
// for the pull request: the breaking label, the oasdiff report, the
// operations and generated methods added, changed and removed, and the
// checks' output. A document equal to api/openapi.yaml changes nothing and
// reports changed=false. A failed update still writes the report, and
// returns the error.
func syncSpec(ctx context.Context, root, newSpec string, o syncOptions, w io.Writer) error {
	cur, err := os.ReadFile(filepath.Join(root, specFile))
	if err != nil {
		return err
	}
	next, err := os.ReadFile(newSpec)
	if err != nil {
		return err
	}
	if bytes.Equal(cur, next) {
		fmt.Fprintf(w, "%s is already %s: nothing to do\n", specFile, newSpec)
		return writeOutputs(o.Outputs, false, false, "")
	}

	var log bytes.Buffer
	checks, goAPI := o.checks, o.goAPI
	if checks == nil {
		checks, goAPI = steps, true
	}
	res, err := update(ctx, root, newSpec, o.AllowBreaking, checks, goAPI, io.MultiWriter(w, &log))
	breaking := res.breakingSummary() != ""
	title := fmt.Sprintf("Pagecall spec update: openapi3.yaml %s", shortID(next))
	if breaking {
		title += " (breaking)"
	}
	report := syncReport(cur, next, o, res, err, log.String())
	if o.Report != "" {
		if werr := os.WriteFile(o.Report, []byte(report), 0o644); werr != nil {
			return werr
		}
		fmt.Fprintf(w, "report written to %s\n", o.Report)
	}
	if werr := writeOutputs(o.Outputs, err == nil, breaking, title); werr != nil {
		return werr
	}
	return err
}

// shortID is a short name for a document: the start of its git blob ID,
// which is how pplink/pagecall-docs knows the same bytes.
func shortID(doc []byte) string { return "blob " + specid.Of(doc).GitBlob[:12] }

// syncReport renders the pull request body.
func syncReport(cur, next []byte, o syncOptions, res *updateResult, err error, log string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Pagecall's published OpenAPI document changed. This pull request was made by `make spec-sync` (the update of `make update-spec`); review it like any other change, and see docs/SPEC-UPDATES.md.\n\n")
	if o.Source != "" {
		fmt.Fprintf(&b, "Source: %s\n\n", o.Source)
	}
	c, n := specid.Of(cur), specid.Of(next)
	fmt.Fprintf(&b, "| | %s (current) | new |\n|---|---|---|\n", specFile)
	fmt.Fprintf(&b, "| info.version | %s | %s |\n", infoVersion(cur), infoVersion(next))
	fmt.Fprintf(&b, "| git blob | `%s` | `%s` |\n", c.GitBlob, n.GitBlob)
	fmt.Fprintf(&b, "| sha256 | `%s` | `%s` |\n\n", c.SHA256, n.SHA256)

	switch summary := res.breakingSummary(); {
	case err != nil:
		fmt.Fprintf(&b, "**Update failed**: nothing was changed.\n\n```text\n%s\n```\n\n", err)
	case summary != "":
		fmt.Fprintf(&b, "**Breaking**: %s. Taken with ALLOW_BREAKING=1: decide the version bump (README, Versioning) before merging.\n\n", summary)
	default:
		fmt.Fprintf(&b, "**Not breaking**: oasdiff reports no change at error or warning level, no generated method is removed or renamed, and apidiff finds no incompatible Go API change.\n\n")
	}

	b.WriteString("## Operations and generated methods\n\n")
	if res.Ops.Old+res.Ops.New > 0 {
		res.Ops.write(&b)
		for _, g := range res.GoBreaking {
			fmt.Fprintf(&b, "\nBreaking for Go callers: %s", g)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("(not compared: the update stopped before this step)\n")
	}

	b.WriteString("\n## oasdiff breaking-change report\n\n")
	fmt.Fprintf(&b, "%s, both documents with %s applied:\n\n```text\n%s\n```\n", oasdiffModule, overlayFile, strings.TrimRight(orNone(res.Oasdiff), "\n"))

	b.WriteString("\n## Go API (apidiff)\n\n")
	if res.GoAPI.Class == "" {
		b.WriteString("Not compared: the update stopped before the comparison, or did not make it.\n")
	} else {
		fmt.Fprintf(&b, "%s, the module's exported API before and after (%s regenerated): **%s**, %s (README, Versioning).\n\n```text\n%s\n```\n",
			apidiffModule, apiListing, res.GoAPI.Class, semverBump(res.GoAPI.Class), strings.TrimRight(orNone(res.GoAPI.Report), "\n"))
	}

	b.WriteString("\n## Checks: go generate, generated-code contract, go build, go vet, go test\n\n")
	switch {
	case res.Checks == "":
		b.WriteString("Not run: the update stopped before replacing the document.\n")
	case err != nil:
		fmt.Fprintf(&b, "**Failed**; %s, %s/ and %s/ were restored.\n\n```text\n%s\n```\n", specFile, genDir, wireDir, strings.TrimRight(res.Checks, "\n"))
	default:
		fmt.Fprintf(&b, "Passed.\n\n```text\n%s\n```\n", strings.TrimRight(res.Checks, "\n"))
	}

	log = strings.TrimRight(log, "\n")
	const head, tail = "\n<details><summary>Full log</summary>\n\n```text\n", "\n```\n</details>\n"
	if room := maxReport - b.Len() - len(head) - len(tail); len(log) > room {
		const cut = "\n[... cut to fit a pull request body ...]"
		log = log[:max(0, room-len(cut))] + cut
	}
	b.WriteString(head + log + tail)
	return b.String()
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}

// infoVersion is the document's info.version, or "?".
func infoVersion(doc []byte) string {
	var d struct {
		Info struct {
			Version string `yaml:"version"`
		} `yaml:"info"`
	}
	if yaml.Unmarshal(doc, &d) != nil || d.Info.Version == "" {
		return "?"
	}
	return d.Info.Version
}

// writeOutputs appends the workflow's outputs to file, if one is named.
func writeOutputs(file string, changed, breaking bool, title string) error {
	if file == "" {
		return nil
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "changed=%t\nbreaking=%t\ntitle=%s\n", changed, breaking, strings.ReplaceAll(title, "\n", " "))
	return errors.Join(err, f.Close())
}
