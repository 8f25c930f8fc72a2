package scenarios

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports is a statement of policy (see go/build/deps_test.go): the
// package's non-test files import the standard library, the one YAML
// library, and the domain packages below it, never a command, a plotting
// or a CLI library.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"go.yaml.in/yaml/v3":                               true,
		"github.com/clustersim/clustersim/cluster":         true,
		"github.com/clustersim/clustersim/cluster/failure": true,
		"github.com/clustersim/clustersim/sim/model":       true,
		"github.com/clustersim/clustersim/sim/run":         true,
		"github.com/clustersim/clustersim/sim/step":        true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !allowed[path] {
				t.Errorf("%s imports %q: package scenarios uses the standard library, YAML and the domain packages only", name, path)
			}
		}
	}
}
