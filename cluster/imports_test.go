package cluster

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports is a statement of policy (see go/build/deps_test.go): the
// package is pure, so its non-test files import only the standard library
// and nothing that does I/O.
func TestImports(t *testing.T) {
	forbidden := map[string]bool{
		"os": true, "io": true, "io/fs": true, "io/ioutil": true, "bufio": true,
		"net": true, "net/http": true, "log": true, "log/slog": true,
		"syscall": true, "os/exec": true, "path/filepath": true, "embed": true,
		"math/rand": true, "math/rand/v2": true, "unsafe": true,
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
			if strings.Contains(first, ".") {
				t.Errorf("%s imports %q: package cluster uses the standard library only", name, path)
			}
			if forbidden[path] {
				t.Errorf("%s imports %q: package cluster does no I/O and draws no random numbers", name, path)
			}
		}
	}
}
