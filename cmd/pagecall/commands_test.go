package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pplink/pagecall-go"
	"github.com/pplink/pagecall-go/pagecalltest"
	"github.com/spf13/cobra"
)

// These tests hold for every published spec version (make spec-history
// runs them with -tags anyspec): they take the operations from the
// embedded spec, never by name.

// treeIn is what an in-process run of the command tree gets.
type treeIn struct {
	stdin    string
	terminal bool           // stdout and stderr are terminals
	stdout   io.Writer      // if set, receives stdout instead of the result
	stderr   *syncBuffer    // if set, receives stderr (readable while it runs)
	signals  chan os.Signal // nil: none
}

// runTree runs the command tree in this process against srv.
func runTree(t *testing.T, srv *pagecalltest.Server, in treeIn, args ...string) cliResult {
	t.Helper()
	var out syncBuffer
	errOut := in.stderr
	if errOut == nil {
		errOut = &syncBuffer{}
	}
	vars := map[string]string{"PAGECALL_BASE_URL": srv.URL(), "PAGECALL_API_KEY": srv.APIKey()}
	e := &env{
		Stdin:            strings.NewReader(in.stdin),
		Stdout:           &out,
		Stderr:           errOut,
		StderrIsTerminal: in.terminal,
		StdoutIsTerminal: in.terminal,
		Getenv:           func(k string) string { return vars[k] },
		Signals:          in.signals,
	}
	if in.stdout != nil {
		e.Stdout = in.stdout
	}
	code := run(t.Context(), e, args)
	t.Logf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out.String(), errOut.String())
	return cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// operationCommands walks the command tree and returns, for each operation
// ("GET /rooms"), the words of its command ("rooms", "list").
func operationCommands(t *testing.T) map[string][]string {
	t.Helper()
	root, err := newRootCmd(&env{}, true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	var walk func(c *cobra.Command, words []string)
	walk = func(c *cobra.Command, words []string) {
		if op, ok := c.Annotations[annotationOperation]; ok {
			if prev, dup := out[op]; dup {
				t.Errorf("%s has two commands: %v and %v", op, prev, words)
			}
			out[op] = words
		}
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(words), sub.Name()))
		}
	}
	walk(root, nil)
	return out
}

// specOperations returns the operations of the embedded spec as the mock
// serves them.
func specOperations(t *testing.T) []pagecalltest.Operation {
	t.Helper()
	return pagecalltest.NewTestServer(t).Operations()
}

// TestEveryOperationHasACommand: each operation of the embedded spec is
// one command away, and no command claims an operation the spec lacks.
func TestEveryOperationHasACommand(t *testing.T) {
	t.Parallel()
	cmds := operationCommands(t)
	want := map[string]bool{}
	for _, op := range specOperations(t) {
		key := op.Method + " " + op.Path
		want[key] = true
		words, ok := cmds[key]
		if !ok {
			t.Errorf("%s (%s) has no command", key, op.OperationID)
			continue
		}
		if len(words) != 2 {
			t.Errorf("%s is %q, want pagecall <resource> <verb>", key, words)
		}
	}
	for key, words := range cmds {
		if !want[key] {
			t.Errorf("command %v calls %s, which the spec lacks", words, key)
		}
	}
	if len(cmds) == 0 {
		t.Fatal("no operation commands at all")
	}
}

// TestCLITableMatchesSDK: the generated table has one entry per operation
// of the spec, each named after the SDK method its caller calls (the
// compiler checks the call itself), with --all exactly when the SDK has an
// iterator (gen/templates/cli.tmpl repeats methods.tmpl's rule).
func TestCLITableMatchesSDK(t *testing.T) {
	t.Parallel()
	client := reflect.TypeFor[*pagecall.Client]()
	if got, want := len(cliOperations), len(specOperations(t)); got != want {
		t.Errorf("the table has %d operations, the spec %d", got, want)
	}
	for _, op := range cliOperations {
		if _, ok := client.MethodByName(op.operationID); !ok {
			t.Errorf("%s: the SDK has no such method", op.operationID)
		}
		if _, hasSeq := client.MethodByName(op.operationID + "Seq"); hasSeq != op.hasSeq {
			t.Errorf("%s: table has seq %v, SDK has %sSeq %v", op.operationID, op.hasSeq, op.operationID, hasSeq)
		}
		if op.bind == nil {
			t.Errorf("%s: no caller", op.operationID)
		}
	}
}

// TestEveryCommandHasHelpFromTheSpec: a derived command's one-line help is
// its operation's summary (or description), its help names the operation,
// and every command under a resource has examples.
func TestEveryCommandHasHelpFromTheSpec(t *testing.T) {
	t.Parallel()
	doc, err := loadDocument()
	if err != nil {
		t.Fatal(err)
	}
	root, err := newRootCmd(&env{}, true)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := apiOps(doc, cliOperations, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		cmd, _, err := root.Find([]string{o.resource, o.verb})
		if err != nil || cmd.Annotations[annotationOperation] != o.method+" "+o.path {
			t.Errorf("%s %s: no command %s %s (%v)", o.method, o.path, o.resource, o.verb, err)
			continue
		}
		if cmd.Name() == "delete" && o.resource == "users" {
			continue // the bulk command of delete.go, with its own help
		}
		want := o.op.Summary
		if want == "" {
			want = firstLine(o.op.Description)
		}
		if cmd.Short != strings.TrimSpace(want) {
			t.Errorf("%s %s: short help %q, want the spec's %q", o.resource, o.verb, cmd.Short, want)
		}
		if !strings.Contains(cmd.Long, o.op.OperationID) || !strings.Contains(cmd.Long, o.method+" "+o.path) {
			t.Errorf("%s %s: help does not name %s %s (%s)", o.resource, o.verb, o.method, o.path, o.op.OperationID)
		}
	}
	for _, res := range root.Commands() {
		if _, isResource := res.Annotations[annotationOperation]; isResource || !hasOperation(res) {
			continue
		}
		for _, c := range res.Commands() {
			if !strings.HasPrefix(strings.TrimSpace(c.Example), "pagecall "+res.Name()+" "+c.Name()) {
				t.Errorf("%s %s: examples %q do not start with the command", res.Name(), c.Name(), c.Example)
			}
		}
	}
}

// hasOperation reports whether a command has an operation command below.
func hasOperation(c *cobra.Command) bool {
	for _, sub := range c.Commands() {
		if _, ok := sub.Annotations[annotationOperation]; ok {
			return true
		}
	}
	return false
}

// TestEveryCommandCallsItsOperation runs every operation's command against
// the mock with the spec's example request (path values as arguments, the
// query as flags, the body as --data), as TestConformance calls every SDK
// method: the command exits 0 after exactly one request, routed to its
// operation and valid for the spec (the mock answers 400 otherwise), and
// prints the answer's resource as JSON (a list: a line per item).
func TestEveryCommandCallsItsOperation(t *testing.T) {
	t.Parallel()
	cmds := operationCommands(t)
	for _, op := range specOperations(t) {
		t.Run(op.OperationID, func(t *testing.T) {
			t.Parallel()
			srv := pagecalltest.NewTestServer(t)
			ex, ok := srv.Example(op.OperationID)
			if !ok {
				t.Fatalf("the mock has no example for %s", op.OperationID)
			}
			args := append(slices.Clone(cmds[op.Method+" "+op.Path]), ex.PathValues...)
			for _, name := range slices.Sorted(maps.Keys(ex.Query)) {
				args = append(args, fmt.Sprintf("--%s=%v", commandWord(name), ex.Query[name]))
			}
			if ex.Body != nil {
				args = append(args, "--data", string(ex.Body))
			}
			r := runTree(t, srv, treeIn{}, args...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Route != op.Method+" "+op.Path || reqs[0].Status != 200 {
				t.Fatalf("requests %+v, want one %s %s answered 200", reqs, op.Method, op.Path)
			}
			checkPrinted(t, r.stdout, reqs[0].Response)
		})
	}
}

// checkPrinted checks stdout against the answer: a list's items one per
// line, else one JSON value whose fields the answer's resource has.
func checkPrinted(t *testing.T, stdout string, answer []byte) {
	t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal(answer, &body); err != nil {
		t.Fatalf("answer %s: %v", answer, err)
	}
	delete(body, "paging")
	if len(body) != 1 {
		return // the whole body is the result: printed as one value
	}
	var main json.RawMessage
	for _, v := range body {
		main = v
	}
	var items []json.RawMessage
	if json.Unmarshal(main, &items) == nil {
		ls := lines(stdout)
		if len(ls) != len(items) {
			t.Fatalf("%d lines for %d items:\n%s", len(ls), len(items), stdout)
		}
		for _, l := range ls {
			if !json.Valid([]byte(l)) {
				t.Errorf("line %q is not JSON", l)
			}
		}
		return
	}
	var got, want any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not one JSON value: %v\n%s", err, stdout)
	}
	_ = json.Unmarshal(main, &want)
	gotObj, ok1 := got.(map[string]any)
	wantObj, ok2 := want.(map[string]any)
	if ok1 != ok2 {
		t.Fatalf("printed %s, the answer's resource is %s", stdout, main)
	}
	var extra []string
	for k := range gotObj {
		if _, ok := wantObj[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 || ok1 && len(gotObj) == 0 {
		t.Errorf("printed fields %v that the answer %s lacks (or none)", extra, main)
	}
}

// TestExamplesRun runs, from a POSIX shell, every example of every command
// derived from the spec (but --data @body.json, which needs a file)
// against a fresh mock, whose store holds the objects the spec's examples
// name: each example is a call that works.
func TestExamplesRun(t *testing.T) {
	t.Parallel()
	root, err := newRootCmd(&env{}, true)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(binary)
	for _, res := range root.Commands() {
		for _, c := range res.Commands() {
			if _, ok := c.Annotations[annotationOperation]; !ok || c.Name() == "delete" && res.Name() == "users" {
				continue // hand-written: their examples show pipelines
			}
			for i, line := range lines(c.Example) {
				line = strings.TrimSpace(line)
				if strings.HasSuffix(line, "@body.json") {
					continue
				}
				t.Run(fmt.Sprintf("%s_%s_%d", res.Name(), c.Name(), i), func(t *testing.T) {
					t.Parallel()
					srv := pagecalltest.NewTestServer(t)
					env := append(mockEnv(srv), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
					r := runCLIVia(t, env, "sh", "-c", line)
					if r.code != exitOK {
						t.Errorf("%s: exit %d: %s", line, r.code, r.stderr)
					}
					if n := len(srv.Requests()); n < 1 {
						t.Errorf("%s: sent nothing", line)
					}
				})
			}
		}
	}
}

// runCLIVia runs a program (a shell around the binary), bounded by
// runTimeout.
func runCLIVia(t *testing.T, env []string, name string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return result(t, cmd, cmd.Run(), &stdout, &stderr)
}

// lines splits output into its lines.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
