// Command apilist writes the exported Go API of the module's public
// packages as sorted text, one declaration a line, in the spirit of Go's
// own api/*.txt: a reviewer sees every change to the surface callers
// compile against in a pull request's diff of api/go-api.txt, and
// `make check-api` fails when the file is stale.
//
// Usage (from the module root):
//
//	go run ./internal/apilist [-o FILE] [PATTERN ...]
//
// PATTERN defaults to ./... . Packages under internal/ or cmd/, package
// main and test packages are left out: callers cannot import them. The
// listing is for review; whether a change is compatible is apidiff's
// verdict (cmd/specupdate reports it, make api-diff shows it).
//
// A line says what a caller can name and the type it has:
//
//	pkg PATH, const NAME TYPE = VALUE
//	pkg PATH, var NAME TYPE
//	pkg PATH, func NAME[TPARAMS](PARAMS) RESULTS
//	pkg PATH, method (RECV) NAME(PARAMS) RESULTS
//	pkg PATH, type NAME struct            (then one line a field)
//	pkg PATH, type NAME struct, FIELD TYPE
//	pkg PATH, type NAME interface         (then one line a method)
//	pkg PATH, type NAME interface, METHOD(PARAMS) RESULTS
//	pkg PATH, type NAME = TYPE            (an alias)
//	pkg PATH, type NAME UNDERLYING        (any other defined type)
//
// Types of other packages are written with their package name
// (context.Context, wire.Room); parameter names are left out, as renaming
// one does not change what callers write.
//
// It is hand-written rather than taken from Go's cmd/api, which is
// internal to the Go tree and not importable; go/types gives the same
// facts in a few dozen lines.
package main

import (
	"flag"
	"fmt"
	"go/types"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

func main() {
	out := flag.String("o", "", "write the listing to FILE (default: stdout)")
	flag.Parse()
	patterns := flag.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	lines, err := listing(patterns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apilist:", err)
		os.Exit(1)
	}
	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "apilist:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// listing loads the packages matching patterns and returns the lines of
// every public one, sorted.
func listing(patterns []string) ([]string, error) {
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedTypes}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			return nil, fmt.Errorf("%s: %v", p.PkgPath, p.Errors[0])
		}
		if !public(p) {
			continue
		}
		lines = append(lines, packageLines(p.Types)...)
	}
	slices.Sort(lines)
	return slices.Compact(lines), nil
}

// public reports whether callers outside the module can import p.
func public(p *packages.Package) bool {
	if p.Name == "main" || strings.HasSuffix(p.PkgPath, ".test") {
		return false
	}
	for _, seg := range strings.Split(p.PkgPath, "/") {
		if seg == "internal" || seg == "cmd" {
			return false
		}
	}
	return true
}

// packageLines lists the exported declarations of pkg.
func packageLines(pkg *types.Package) []string {
	prefix := "pkg " + pkg.Path() + ", "
	qual := func(other *types.Package) string {
		if other == pkg {
			return ""
		}
		return other.Name()
	}
	typ := func(t types.Type) string { return types.TypeString(t, qual) }
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, prefix+fmt.Sprintf(format, args...)) }
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch obj := obj.(type) {
		case *types.Const:
			add("const %s %s = %s", name, typ(obj.Type()), obj.Val().ExactString())
		case *types.Var:
			add("var %s %s", name, typ(obj.Type()))
		case *types.Func:
			sig := obj.Type().(*types.Signature)
			add("func %s%s%s", name, typeParams(sig.TypeParams(), typ), signature(sig, typ))
		case *types.TypeName:
			lines = append(lines, typeLines(prefix, obj, typ)...)
		}
	}
	return lines
}

// typeLines lists a type: its declaration, its exported fields or
// interface methods, and its exported methods.
func typeLines(prefix string, obj *types.TypeName, typ func(types.Type) string) []string {
	name := obj.Name()
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, prefix+fmt.Sprintf(format, args...)) }
	if obj.IsAlias() {
		t := obj.Type()
		if a, ok := t.(*types.Alias); ok {
			t = a.Rhs()
		}
		add("type %s = %s", name, typ(t))
		return lines
	}
	named, ok := obj.Type().(*types.Named)
	if !ok {
		add("type %s %s", name, typ(obj.Type().Underlying()))
		return lines
	}
	decl := name + typeParams(named.TypeParams(), typ)
	switch u := named.Underlying().(type) {
	case *types.Struct:
		add("type %s struct", decl)
		for f := range u.Fields() {
			if !f.Exported() {
				continue
			}
			if f.Embedded() {
				add("type %s struct, embedded %s", decl, typ(f.Type()))
			} else {
				add("type %s struct, %s %s", decl, f.Name(), typ(f.Type()))
			}
		}
	case *types.Interface:
		add("type %s interface", decl)
		for i := range u.NumEmbeddeds() {
			add("type %s interface, embedded %s", decl, typ(u.EmbeddedType(i)))
		}
		for m := range u.ExplicitMethods() {
			if m.Exported() {
				add("type %s interface, %s%s", decl, m.Name(), signature(m.Type().(*types.Signature), typ))
			} else {
				add("type %s interface, unexported methods", decl)
			}
		}
	default:
		add("type %s %s", decl, typ(u))
	}
	for m := range named.Methods() {
		if !m.Exported() {
			continue
		}
		sig := m.Type().(*types.Signature)
		recv := name
		if _, ptr := sig.Recv().Type().(*types.Pointer); ptr {
			recv = "*" + name
		}
		add("method (%s) %s%s", recv, m.Name(), signature(sig, typ))
	}
	return lines
}

// signature writes a function's parameters and results without names.
func signature(sig *types.Signature, typ func(types.Type) string) string {
	var b strings.Builder
	b.WriteString("(")
	for i := range sig.Params().Len() {
		if i > 0 {
			b.WriteString(", ")
		}
		t := sig.Params().At(i).Type()
		if sig.Variadic() && i == sig.Params().Len()-1 {
			b.WriteString("..." + typ(t.(*types.Slice).Elem()))
		} else {
			b.WriteString(typ(t))
		}
	}
	b.WriteString(")")
	switch n := sig.Results().Len(); {
	case n == 1:
		b.WriteString(" " + typ(sig.Results().At(0).Type()))
	case n > 1:
		var rs []string
		for i := range n {
			rs = append(rs, typ(sig.Results().At(i).Type()))
		}
		b.WriteString(" (" + strings.Join(rs, ", ") + ")")
	}
	return b.String()
}

// typeParams writes a type parameter list, "" for none.
func typeParams(tps *types.TypeParamList, typ func(types.Type) string) string {
	if tps.Len() == 0 {
		return ""
	}
	var ps []string
	for tp := range tps.TypeParams() {
		ps = append(ps, tp.Obj().Name()+" "+typ(tp.Constraint()))
	}
	return "[" + strings.Join(ps, ", ") + "]"
}
