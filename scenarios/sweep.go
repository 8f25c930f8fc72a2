package scenarios

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Sweep is a scenario's sweep block: for each dotted --set path, the
// values it takes, in file order. `clustersim sweep` simulates the
// cartesian product of the values, each point being the scenario with the
// overrides path=value applied; `run` and `plan` use the scenario without
// them.
//
//	sweep:
//	  cluster.gpus: [4096, 8192, 16384]
//	  cluster.network.oversubscription: [1, 3]
//
// Load checks that every path names a key of the schema that holds a
// single value (not a mapping or a list), and that every value has the
// key's type; whether a point is consistent (a layout that divides, fits in
// memory) is checked when the point is loaded with its overrides.
type Sweep []SweepKey

// SweepKey is one swept path and its values, as --set writes them.
type SweepKey struct {
	Path   string
	Values []string
}

// Sets returns the overrides of every point of the sweep, the last path
// varying fastest: the cartesian product of the values. It materialises
// every point: use Count and Point for a sweep that may be large.
func (s Sweep) Sets() [][]string {
	n, ok := s.Count()
	if !ok {
		panic("scenarios: Sets of a sweep of more than 2^62 points")
	}
	points := make([][]string, n)
	for i := range points {
		points[i] = s.Point(i)
	}
	return points
}

// Count is the number of points of the sweep, the product of the value
// counts; ok is false when it exceeds 2^62 (count is then 2^62).
func (s Sweep) Count() (count int, ok bool) {
	const limit = 1 << 62
	n, over := 1, false
	for _, k := range s {
		v := len(k.Values)
		if v == 0 {
			return 0, true
		}
		if over || n > limit/v {
			over = true
			continue
		}
		n *= v
	}
	if over {
		return limit, false
	}
	return n, true
}

// Point returns the overrides of point i (0 <= i < Count()), the last path
// varying fastest, without building the others.
func (s Sweep) Point(i int) []string {
	out := make([]string, len(s))
	for j := len(s) - 1; j >= 0; j-- {
		v := s[j].Values
		out[j] = s[j].Path + "=" + v[i%len(v)]
		i /= len(v)
	}
	return out
}

var sweepType = reflect.TypeFor[Sweep]()

// decodeSweep decodes a sweep block: a mapping of paths to a value or a
// list of values.
func (d *decoder) decodeSweep(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.errAt(n, key, "must be a mapping of --set paths to lists of values, e.g. {cluster.gpus: [4096, 8192]}, got %s", describe(n))
		return
	}
	sw := Sweep{}
	d.eachKey(n, key, nil, func(path string, k, val *yaml.Node) {
		dotted := join(key, path)
		leaf, err := schemaPath(path)
		if err != nil {
			d.errAt(k, dotted, "%v", err)
			return
		}
		val = resolve(val)
		items := []*yaml.Node{val}
		if val != nil && val.Kind == yaml.SequenceNode {
			items = val.Content
			if len(items) == 0 {
				d.errAt(val, dotted, "has no values; give a list such as [1, 2]")
				return
			}
		}
		sk := SweepKey{Path: path}
		for i, it := range items {
			it = resolve(it)
			if it == nil || it.Kind != yaml.ScalarNode {
				d.errAt(val, dotted, "value %d must be a single value, not a list or mapping", i+1)
				continue
			}
			// Type-check the value as the key's own.
			before := len(d.errs)
			d.decode(it, reflect.New(leaf).Elem(), dotted)
			if len(d.errs) == before {
				sk.Values = append(sk.Values, it.Value)
			}
		}
		sw = append(sw, sk)
	})
	v.Set(reflect.ValueOf(sw))
}

// MarshalYAML writes the sweep as a mapping of paths to flow lists.
func (s Sweep) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range s {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, v := range k.Values {
			seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.Path}, seq)
	}
	return n, nil
}

// CheckSetPath reports whether path names a key of the schema that
// --set can give a value (a single value, a mapping or a list), with an
// error that says what is valid when it does not.
func CheckSetPath(path string) error {
	_, err := walkPath(path)
	return err
}

// schemaPath returns the type of the key a dotted --set path names,
// which must hold a single value, or an error that says what is valid.
func schemaPath(path string) (reflect.Type, error) {
	t, err := walkPath(path)
	if err != nil {
		return nil, err
	}
	switch {
	case t == modelType, t == profileType:
		// a built-in name
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Slice:
		return nil, fmt.Errorf("%s is %s; sweep one of its keys instead", path, expect(t))
	}
	return t, nil
}

// walkPath returns the type of the key a dotted path names.
func walkPath(path string) (reflect.Type, error) {
	segs := strings.Split(path, ".")
	t := reflect.TypeFor[Scenario]()
	for j, seg := range segs {
		parent := strings.Join(segs[:j], ".")
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case seg == "":
			return nil, fmt.Errorf("empty key in path %q", path)
		case t == sweepType:
			return nil, fmt.Errorf("a sweep cannot sweep itself")
		case t == profileType:
			t = reflect.TypeFor[Cause]() // a custom cause, any name
		case t.Kind() == reflect.Struct:
			f, ok := lookupField(t, seg)
			if !ok {
				where := "valid keys"
				if parent != "" {
					where += " in " + parent
				}
				hint := suggest(seg, fieldNames(t))
				if full := pathsEndingIn(path); len(full) > 0 {
					hint = fmt.Sprintf(" (did you mean %s?)", strings.Join(full, " or "))
				}
				in := ""
				if len(segs) > 1 {
					in = fmt.Sprintf(" in %q", path)
				}
				return nil, fmt.Errorf("unknown key %q%s%s; %s: %s", seg, in, hint, where, strings.Join(fieldNames(t), ", "))
			}
			t = t.Field(f.index).Type
		case t.Kind() == reflect.Slice:
			if i, err := strconv.Atoi(seg); err != nil || i < 0 {
				return nil, fmt.Errorf("%q in %q is not an index of the list %s", seg, path, parent)
			}
			t = t.Elem()
		default:
			return nil, fmt.Errorf("%s is %s and has no key %q", parent, expect(t), seg)
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == sweepType {
		return nil, fmt.Errorf("a sweep cannot sweep itself")
	}
	return t, nil
}

// pathsEndingIn lists the schema's single-value paths that end in
// ".suffix", for a path given without its first keys.
func pathsEndingIn(suffix string) []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == sweepType || t == profileType {
			if strings.HasSuffix(prefix, "."+suffix) {
				out = append(out, prefix)
			}
			return
		}
		for _, f := range fields(t) {
			walk(t.Field(f.index).Type, join(prefix, f.name))
		}
	}
	walk(reflect.TypeFor[Scenario](), "")
	return out
}
