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
	return builtin(name, false, sets)
}

func builtin(name string, anyLayout bool, sets []string) (run.Spec, *Scenario, error) {
	data, err := BuiltinYAML(name)
	if err != nil {
		return run.Spec{}, nil, err
	}
	return load(strings.NewReader(string(data)), "builtin/"+name+".yaml", anyLayout, sets)
}

// Resolve loads a built-in scenario when nameOrPath is one's name, else
// the file at that path. A name that is neither is an *Error.
func Resolve(nameOrPath string, sets ...string) (run.Spec, *Scenario, error) {
	return resolveScenario(nameOrPath, false, sets)
}

// ResolveAnyLayout is Resolve without checking the scenario's layout
// against its model, batch, cluster and GPU memory, for a layout search
// (the plan command) that only takes the model, the training and the
// cluster from it: a scenario whose layout does not divide or fit on
// another GPU count still loads. The parallelism keys must still be valid
// on their own (names, ranges); the returned spec's layout may be invalid.
func ResolveAnyLayout(nameOrPath string, sets ...string) (run.Spec, *Scenario, error) {
	return resolveScenario(nameOrPath, true, sets)
}

func resolveScenario(nameOrPath string, anyLayout bool, sets []string) (run.Spec, *Scenario, error) {
	if slices.Contains(Names(), nameOrPath) {
		return builtin(nameOrPath, anyLayout, sets)
	}
	spec, s, err := loadFile(nameOrPath, anyLayout, sets)
	if errors.Is(err, fs.ErrNotExist) {
		if _, statErr := os.Stat(nameOrPath); errors.Is(statErr, fs.ErrNotExist) {
			return run.Spec{}, nil, unknownScenario(nameOrPath)
		}
	}
	return spec, s, err
}
