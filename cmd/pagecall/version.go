package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/pplink/pagecall-go/api"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// modulePath is the SDK's module, whose version the binary reports.
const modulePath = "github.com/pplink/pagecall-go"

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the SDK version and the API spec version it was built from",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			title, version := specInfo()
			fmt.Fprintf(e.Stdout, "pagecall %s\n", moduleVersion())
			fmt.Fprintf(e.Stdout, "spec     %s %s\n", title, version)
			fmt.Fprintf(e.Stdout, "go       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// versionString is the root command's --version text. It leaves out the
// spec version, which the version command parses only when asked.
func versionString() string { return "pagecall " + moduleVersion() }

// moduleVersion is the version of the pagecall-go module in this binary:
// a tag such as v0.3.0 when built with "go install …@v0.3.0", a
// pseudo-version or "(devel)" when built from a work tree.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if bi.Main.Path == modulePath && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath && d.Version != "" {
			return d.Version
		}
	}
	return "(devel)"
}

// specInfo returns info.title and info.version of the embedded OpenAPI
// document, or "unknown" for what cannot be read.
func specInfo() (title, version string) {
	var doc struct {
		Info struct {
			Title   string `yaml:"title"`
			Version string `yaml:"version"`
		} `yaml:"info"`
	}
	title, version = "unknown", "unknown"
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		return title, version
	}
	if doc.Info.Title != "" {
		title = doc.Info.Title
	}
	if doc.Info.Version != "" {
		version = doc.Info.Version
	}
	return title, version
}
