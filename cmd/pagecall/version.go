package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/pplink/pagecall-go/api"
	"github.com/pplink/pagecall-go/internal/specid"
	"github.com/spf13/cobra"
	"golang.org/x/mod/module"
	"gopkg.in/yaml.v3"
)

// modulePath is the SDK's module, whose version the binary reports.
const modulePath = "github.com/pplink/pagecall-go"

// Set by the release build with -ldflags "-X main.version=... -X
// main.commit=... -X main.date=..." (see .goreleaser.yaml). Empty in every
// other build, which then reports what the Go toolchain recorded.
//
// The spec is not stamped: api/openapi.yaml is embedded in every build, so
// the binary reports the digest of the bytes it actually carries, and no
// flag can make it claim another document.
var (
	version string // the release's module version, e.g. v0.3.0
	commit  string // the full commit hash the release was built from
	date    string // the commit's time, RFC 3339
)

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the SDK version, commit, Go version and the API spec it was built from",
		Long: `Print the SDK module version, the commit it was built from, the Go version,
and the embedded Pagecall OpenAPI document: its title and info.version, its
SHA-256, and its git blob hash. The blob hash is what git records for the
same bytes in pplink/pagecall-docs (openapi3.yaml), so
"git log --find-object=HASH" there finds the published version.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			bi, ok := debug.ReadBuildInfo()
			writeVersion(e.Stdout, describeBuild(bi, ok, stamp{version, commit, date}), describeSpec(api.OpenAPI))
			return nil
		},
	}
}

// versionString is the root command's --version text. It leaves out the
// spec, which the version command parses only when asked.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	return "pagecall " + describeBuild(bi, ok, stamp{version, commit, date}).Version
}

// userAgentProduct is the CLI's product token, which the SDK puts in front
// of its own in every request's User-Agent: pagecall-cli/<version>.
func userAgentProduct() string {
	bi, ok := debug.ReadBuildInfo()
	return "pagecall-cli/" + describeBuild(bi, ok, stamp{version, commit, date}).Version
}

// stamp is what a release build sets with -ldflags -X.
type stamp struct{ Version, Commit, Date string }

// buildDesc is what the binary knows about how it was built.
type buildDesc struct {
	// Version is the module version: a tag such as v0.3.0 (a release build,
	// or go install …@v0.3.0), a pseudo-version (go install …@commit, or
	// go build in a git checkout, which Go 1.24+ stamps), or "(devel)".
	Version string
	// Commit is the commit hash, as full as it is known; "" when unknown
	// (go install …@tag records none).
	Commit string
	// Time is the commit time, RFC 3339, when known.
	Time string
	// Modified reports uncommitted changes in the work tree it was built
	// from (go build only).
	Modified bool
	// Go is the toolchain that built the binary.
	Go string
}

// describeBuild combines the release stamp, which wins when present, with
// the build information the Go toolchain records: the main module's version
// and, for a build in a VCS checkout, vcs.revision, vcs.time and
// vcs.modified. A pseudo-version carries a commit prefix of its own, which
// is used when nothing better is known.
func describeBuild(bi *debug.BuildInfo, ok bool, s stamp) buildDesc {
	d := buildDesc{Version: "(devel)", Go: runtime.Version()}
	if ok {
		if bi.GoVersion != "" {
			d.Go = bi.GoVersion
		}
		if v := mainModuleVersion(bi); v != "" {
			d.Version = v
		}
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				d.Commit = kv.Value
			case "vcs.time":
				d.Time = kv.Value
			case "vcs.modified":
				d.Modified, _ = strconv.ParseBool(kv.Value)
			}
		}
		if d.Commit == "" && module.IsPseudoVersion(d.Version) {
			d.Commit, _ = module.PseudoVersionRev(d.Version)
		}
	}
	if s.Version != "" {
		d.Version, d.Commit, d.Time, d.Modified = s.Version, s.Commit, s.Date, false
	}
	return d
}

// mainModuleVersion is the version of the pagecall-go module in bi, or "".
func mainModuleVersion(bi *debug.BuildInfo) string {
	if bi.Main.Path == modulePath && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath && d.Version != "" {
			return d.Version
		}
	}
	return ""
}

// specDesc identifies an OpenAPI document.
type specDesc struct {
	// Title and Version are info.title and info.version, "unknown" when
	// they cannot be read. Pagecall has kept info.version at 1.0.0 across
	// its published versions, so the digests tell them apart.
	Title, Version string
	specid.ID
}

// describeSpec reads info.title and info.version of doc and digests it.
func describeSpec(doc []byte) specDesc {
	d := specDesc{Title: "unknown", Version: "unknown", ID: specid.Of(doc)}

	var parsed struct {
		Info struct {
			Title   string `yaml:"title"`
			Version string `yaml:"version"`
		} `yaml:"info"`
	}
	if err := yaml.Unmarshal(doc, &parsed); err != nil {
		return d
	}
	if parsed.Info.Title != "" {
		d.Title = parsed.Info.Title
	}
	if parsed.Info.Version != "" {
		d.Version = parsed.Info.Version
	}
	return d
}

// writeVersion prints the version command's output: one labelled line per
// fact, the labels padded to one width.
func writeVersion(w io.Writer, b buildDesc, s specDesc) {
	c := b.Commit
	switch {
	case c == "" && b.Version == "(devel)":
		c = "unknown (built without VCS information)"
	case c == "":
		c = "unknown (go install records none; the tag " + b.Version + " names it)"
	default:
		if b.Modified {
			c += " (modified)"
		}
		if b.Time != "" {
			c += " " + b.Time
		}
	}
	fmt.Fprintf(w, "pagecall %s\n", b.Version)
	fmt.Fprintf(w, "commit   %s\n", c)
	fmt.Fprintf(w, "go       %s %s/%s\n", b.Go, runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "spec     %s %s\n", s.Title, s.Version)
	fmt.Fprintf(w, "sha256   %s\n", s.SHA256)
	fmt.Fprintf(w, "git blob %s\n", s.GitBlob)
}
