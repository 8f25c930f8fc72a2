package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/clustersim/clustersim"

// allowed is a statement of policy (see go/build/deps_test.go in the Go
// source): for each package of the module, the packages of the module and
// the outside libraries it may import. Dependencies point one way,
// cmd → scenarios/study → scenarios → sim → cluster, and plots reads results
// only (study never imports plots: it returns plain structs). Every
// outside library has one owner: cobra in cmd, YAML in scenarios, gonum/plot
// in plots. The standard library is always allowed. A new import edge fails
// this test until it is added here on purpose.
var allowed = map[string][]string{
	"cluster":              {},
	"cluster/failure":      {},
	"sim":                  {},
	"sim/model":            {"cluster"},
	"sim/step":             {"cluster", "sim", "sim/model"},
	"sim/run":              {"cluster", "cluster/failure", "sim", "sim/model", "sim/step", "gonum.org/v1/gonum/"},
	"sim/plan":             {"cluster", "sim", "sim/model", "sim/step", "sim/run"},
	"scenarios":            {"cluster", "cluster/failure", "sim/model", "sim/step", "sim/run", "sim/plan", "go.yaml.in/yaml/v3"},
	"scenarios/validation": {"scenarios", "cluster", "sim", "sim/model", "sim/step", "sim/run", "go.yaml.in/yaml/v3", "gonum.org/v1/gonum/"},
	"scenarios/study":      {"scenarios", "scenarios/validation", "cluster", "cluster/failure", "sim", "sim/model", "sim/step", "sim/run", "sim/plan"},
	"plots":                {"sim/model", "sim/step", "sim/run", "sim/plan", "cluster/failure", "gonum.org/v1/plot", "gonum.org/v1/gonum/", "codeberg.org/go-latex/", "golang.org/x/image/"},
	"cmd/clustersim": {"cluster", "cluster/failure", "sim", "sim/model", "sim/step", "sim/run", "sim/plan", "scenarios", "scenarios/validation", "scenarios/study", "plots",
		"github.com/spf13/cobra", "github.com/spf13/pflag", "golang.org/x/term", "github.com/schollz/progressbar/v3"},
}

// pure lists the packages that do no I/O and draw no random numbers: pure
// functions of their inputs (randomness is injected where it is used).
var pure = []string{"cluster", "cluster/failure", "sim", "sim/model"}

// impure are the standard-library packages the pure ones must not import.
var impure = map[string]bool{
	"os": true, "io/fs": true, "io/ioutil": true, "bufio": true, "net": true, "net/http": true,
	"log": true, "log/slog": true, "syscall": true, "os/exec": true, "path/filepath": true, "embed": true,
	"math/rand": true, "math/rand/v2": true, "unsafe": true,
}

func TestImportPolicy(t *testing.T) {
	root := filepath.Join("..", "..")
	imports := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (n == "testdata" || strings.HasPrefix(n, ".") || n == "scratch") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			imports[pkg][ip] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	if len(pkgs) < 6 {
		t.Fatalf("found only %v: is the walk rooted at the module?", pkgs)
	}
	for _, pkg := range pkgs {
		rules, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s is not in the import policy: add it to allowed", pkg)
			continue
		}
		for ip := range imports[pkg] {
			if isStdlib(ip) {
				if impure[ip] && slices.Contains(pure, pkg) {
					t.Errorf("%s imports %s: it is pure (no I/O, no random numbers)", pkg, ip)
				}
				continue
			}
			name := ip
			if strings.HasPrefix(ip, module+"/") {
				name = strings.TrimPrefix(ip, module+"/")
			}
			if !permitted(name, rules) {
				t.Errorf("%s imports %s, which the policy does not allow", pkg, ip)
			}
		}
	}
}

func permitted(name string, rules []string) bool {
	for _, r := range rules {
		if name == r || (strings.HasSuffix(r, "/") && strings.HasPrefix(name, r)) || strings.HasPrefix(name, r+"/") && strings.Contains(r, ".") {
			return true
		}
	}
	return false
}

// isStdlib reports whether an import path is in the standard library: its
// first element has no dot.
func isStdlib(ip string) bool {
	first, _, _ := strings.Cut(ip, "/")
	return !strings.Contains(first, ".") && path.IsAbs("/"+ip)
}

func TestPermitted(t *testing.T) {
	for _, c := range []struct {
		name  string
		rules []string
		want  bool
	}{
		{"sim", []string{"sim"}, true},
		{"sim/step", []string{"sim"}, false},
		{"gonum.org/v1/plot/plotter", []string{"gonum.org/v1/plot"}, true},
		{"gonum.org/v1/gonum/stat", []string{"gonum.org/v1/gonum/"}, true},
		{"scenarios", []string{"sim/run"}, false},
	} {
		if got := permitted(c.name, c.rules); got != c.want {
			t.Errorf("permitted(%q, %v) = %v, want %v", c.name, c.rules, got, c.want)
		}
	}
}
