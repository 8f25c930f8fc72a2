package scenarios

import (
	"errors"
	"github.com/clustersim/clustersim/sim/run"
	"strings"
	"testing"
)

func asError(err error, e **Error) bool { return errors.As(err, e) }

// allErrors returns every *Error joined in err, failing on anything else.
func allErrors(t *testing.T, err error) []*Error {
	t.Helper()
	var out []*Error
	for _, e := range flatten(err) {
		var se *Error
		if !errors.As(e, &se) {
			t.Fatalf("%v (%T) is not an *Error", e, e)
		}
		out = append(out, se)
	}
	return out
}

// lineOf returns the 1-based line of the first line of text that starts
// with prefix.
func lineOf(t *testing.T, text, prefix string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("no line starts with %q", prefix)
	return 0
}

func builtinText(t *testing.T, name string) string {
	t.Helper()
	b, err := BuiltinYAML(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type runSpec = run.Spec
