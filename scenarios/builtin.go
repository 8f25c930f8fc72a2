package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/clustersim/clustersim/sim/run"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Names lists the built-in scenarios, sorted.
func Names() []string {
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		panic("scenarios: " + err.Error()) // the embedded directory is always there
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

func unknownScenario(name string) error {
	return &Error{Msg: fmt.Sprintf("unknown scenario %q%s: not a built-in (%s) nor a YAML file",
		name, suggest(name, Names()), strings.Join(Names(), ", "))}
}

// BuiltinYAML returns the file of the built-in scenario name, comments
// included, ready to copy and edit.
func BuiltinYAML(name string) ([]byte, error) {
	if !slices.Contains(Names(), name) {
		return nil, unknownScenario(name)
	}
	return builtinFS.ReadFile("builtin/" + name + ".yaml")
}

// Builtin loads the built-in scenario name with the overrides sets (see
// Load). Its errors name the file "builtin/NAME.yaml".
func Builtin(name string, sets ...string) (run.Spec, *Scenario, error) {
	data, err := BuiltinYAML(name)
	if err != nil {
		return run.Spec{}, nil, err
	}
	return Load(strings.NewReader(string(data)), "builtin/"+name+".yaml", sets...)
}

// Resolve loads a built-in scenario when nameOrPath is one's name, else
// the file at that path. A name that is neither is an *Error.
func Resolve(nameOrPath string, sets ...string) (run.Spec, *Scenario, error) {
	if slices.Contains(Names(), nameOrPath) {
		return Builtin(nameOrPath, sets...)
	}
	spec, s, err := LoadFile(nameOrPath, sets...)
	if errors.Is(err, fs.ErrNotExist) {
		if _, statErr := os.Stat(nameOrPath); errors.Is(statErr, fs.ErrNotExist) {
			return run.Spec{}, nil, unknownScenario(nameOrPath)
		}
	}
	return spec, s, err
}
