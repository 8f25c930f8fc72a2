package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/clustersim/clustersim/sim/run"
	"go.yaml.in/yaml/v3"
)

// maxFileBytes bounds a scenario file; real ones are a few kilobytes.
const maxFileBytes = 1 << 20

// Load reads one scenario from r, applies the --set overrides sets
// ("path=value", in order) to its YAML tree, checks it and builds the
// run.Spec. file names r in errors. Every problem is reported at once: the
// error joins *Error values sorted by line. An error reading r is returned
// as it is (not an *Error).
func Load(r io.Reader, file string, sets ...string) (run.Spec, *Scenario, error) {
	return load(r, file, false, sets)
}

func load(r io.Reader, file string, anyLayout bool, sets []string) (run.Spec, *Scenario, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return run.Spec{}, nil, fmt.Errorf("scenarios: read %s: %w", file, err)
	}
	if len(data) > maxFileBytes {
		return run.Spec{}, nil, &Error{File: file, Msg: fmt.Sprintf("file is larger than %d bytes", maxFileBytes)}
	}
	root, err := parse(data, file)
	if err != nil {
		return run.Spec{}, nil, err
	}
	d := newDecoder(file)
	d.anyLayout = anyLayout
	for i, s := range sets {
		d.applySet(root, s, i)
	}
	var s Scenario
	d.decode(root, reflect.ValueOf(&s).Elem(), "")
	if err := d.errs.err(); err != nil {
		return run.Spec{}, nil, err
	}
	spec := d.build(&s)
	if err := d.errs.err(); err != nil {
		return run.Spec{}, nil, err
	}
	spec.Sources = d.sources()
	return spec, &s, nil
}

// LoadFile loads the scenario file at path (see Load).
func LoadFile(path string, sets ...string) (run.Spec, *Scenario, error) {
	return loadFile(path, false, sets)
}

func loadFile(path string, anyLayout bool, sets []string) (run.Spec, *Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return run.Spec{}, nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return run.Spec{}, nil, &Error{File: path, Msg: fmt.Sprintf("is a directory; want a scenario YAML file or a built-in name (%s)", strings.Join(Names(), ", "))}
	}
	return load(f, path, anyLayout, sets)
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// parse parses data as one YAML document whose root is a mapping.
func parse(data []byte, file string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := safeDecode(dec, &doc)
	if errors.Is(err, io.EOF) {
		return nil, &Error{File: file, Msg: "empty scenario: want a mapping with keys " + fieldList()}
	}
	if err != nil {
		return nil, yamlError(err, file)
	}
	var extra yaml.Node
	if err := safeDecode(dec, &extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(err, file)
		}
		return nil, &Error{File: file, Line: extra.Line, Msg: "more than one YAML document; a scenario file holds one"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: root.Line, Column: root.Column,
			Msg: fmt.Sprintf("a scenario must be a mapping with keys %s, got %s", fieldList(), describe(root))}
	}
	return root, nil
}

func fieldList() string {
	names := fieldNames(reflect.TypeFor[Scenario]())
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n)
	}
	return b.String()
}

// yamlError turns a YAML syntax error into an *Error with its line.
func yamlError(err error, file string) error {
	msg := err.Error()
	e := &Error{File: file, Msg: "bad YAML: " + msg}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		e.Msg = "bad YAML: " + msg[len(m[0]):]
		if m[1] != "" {
			e.Line, _ = strconv.Atoi(m[1])
		}
	}
	return e
}

// safeDecode decodes the next document, turning a panic in the YAML
// library into an error.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

func safeUnmarshal(data []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return yaml.Unmarshal(data, n)
}
