package scenarios

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim/model"
	"go.yaml.in/yaml/v3"
)

// decoder walks a yaml.Node tree against the Scenario types, recording
// where every key is so that later checks can name its line.
type decoder struct {
	file string
	// anyLayout leaves out the checks of the layout against the model,
	// the batch, the cluster and memory (ResolveAnyLayout).
	anyLayout bool
	errs      errorList
	// keys maps a dotted key ("parallelism.pp", "phases.0") to its key node
	// (the list item for a list element), vals to its value node.
	keys, vals map[string]*yaml.Node
	// set marks the nodes a --set override put in the tree: 1 + its index.
	set map[*yaml.Node]int
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}, set: map[*yaml.Node]int{}}
}

// errAt reports msg about key at node n.
func (d *decoder) errAt(n *yaml.Node, key, format string, args ...any) {
	e := &Error{File: d.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if i := d.set[n]; i > 0 {
		e.File, e.set = SetFile, i
	} else if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs.add(e)
}

// has reports whether the file (or a --set) gave key.
func (d *decoder) has(key string) bool { return d.keys[key] != nil }

// node returns the node to blame for key: its own if present (the value
// node when a --set put it there, else the key node), or else its nearest
// present ancestor's.
func (d *decoder) node(key string) *yaml.Node {
	for k := key; k != ""; {
		if v := d.vals[k]; v != nil && d.set[v] > 0 {
			return v
		}
		if n := d.keys[k]; n != nil {
			return n
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return nil
}

// sources says where every key present came from: "file:line" or "--set"
// (run.Spec.Sources).
func (d *decoder) sources() map[string]string {
	out := make(map[string]string, len(d.keys))
	for k, n := range d.keys {
		switch {
		case d.set[d.vals[k]] > 0 || d.set[n] > 0:
			out[k] = SetFile
		case n != nil && n.Line > 0:
			out[k] = fmt.Sprintf("%s:%d", d.file, n.Line)
		default:
			out[k] = d.file
		}
	}
	return out
}

// errKey reports msg about key at the line of key or of its nearest
// present ancestor.
func (d *decoder) errKey(key, format string, args ...any) {
	d.errAt(d.node(key), key, format, args...)
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "no value"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("%q", v)
	}
	return "an unsupported YAML node"
}

var (
	modelType    = reflect.TypeFor[Model]()
	profileType  = reflect.TypeFor[Profile]()
	durationType = reflect.TypeFor[Duration]()
	intervalType = reflect.TypeFor[Interval]()
)

// field is one key of a schema struct.
type field struct {
	name  string
	index int
}

// fields lists the yaml keys of struct type t in declaration order.
func fields(t reflect.Type) []field {
	var fs []field
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		fs = append(fs, field{name, i})
	}
	return fs
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for _, f := range fields(t) {
		names = append(names, f.name)
	}
	return names
}

func lookupField(t reflect.Type, name string) (field, bool) {
	for _, f := range fields(t) {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// expect says what a value of type t should look like.
func expect(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case modelType:
		return fmt.Sprintf("a built-in model name (%s) or a mapping with keys %s",
			strings.Join(model.ArchNames(), ", "), strings.Join(fieldNames(modelType), ", "))
	case profileType:
		return fmt.Sprintf("a built-in failure profile (%s) or a mapping of cause names to {%s}",
			strings.Join(failure.Names(), ", "), strings.Join(fieldNames(reflect.TypeFor[Cause]()), ", "))
	case durationType:
		return durForms
	case intervalType:
		return "auto or " + durForms
	}
	switch t.Kind() {
	case reflect.Struct:
		return "a mapping with keys " + strings.Join(fieldNames(t), ", ")
	case reflect.Slice:
		return "a list"
	case reflect.String:
		return "a name"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Uint64:
		return "a whole number"
	case reflect.Float64:
		return numberForms
	}
	return t.String()
}

// decode decodes n into v, the value at dotted key.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, key string) {
	n = resolve(n)
	if n == nil {
		d.errAt(nil, key, "unresolvable alias")
		return
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		p := reflect.New(t.Elem())
		d.decode(n, p.Elem(), key)
		v.Set(p)
		return
	}
	wrong := func() { d.errAt(n, key, "must be %s, got %s", expect(t), describe(n)) }
	isNull := n.Kind == yaml.ScalarNode && n.Tag == "!!null"
	if isNull {
		d.errAt(n, key, "has no value; give %s, or remove the key for its default", expect(t))
		return
	}
	switch t {
	case sweepType:
		d.decodeSweep(n, v, key)
		return
	case modelType:
		if n.Kind == yaml.ScalarNode {
			if n.Value == "" {
				d.errAt(n, key, "must not be empty; give %s", expect(t))
				return
			}
			v.Field(0).SetString(n.Value)
			return
		}
		if n.Kind != yaml.MappingNode {
			wrong()
			return
		}
		d.decodeStruct(n, v, key)
		return
	case profileType:
		p := v.Addr().Interface().(*Profile)
		switch n.Kind {
		case yaml.ScalarNode:
			if n.Value == "" {
				d.errAt(n, key, "must not be empty; give %s", expect(t))
				return
			}
			p.Builtin = n.Value
		case yaml.MappingNode:
			p.Causes = []Cause{} // a custom profile, even with no causes
			d.eachKey(n, key, nil, func(name string, k, val *yaml.Node) {
				if name == "" {
					d.errAt(k, key, "a cause needs a name")
					return
				}
				c := Cause{Name: name}
				d.decode(val, reflect.ValueOf(&c).Elem(), join(key, name))
				p.Causes = append(p.Causes, c)
			})
		default:
			wrong()
		}
		return
	case durationType, intervalType:
		if n.Kind != yaml.ScalarNode {
			wrong()
			return
		}
		if t == intervalType && n.Value == "auto" {
			v.SetFloat(0)
			return
		}
		sec, err := ParseDuration(n.Value)
		if err == nil && t == intervalType && sec == 0 {
			err = fmt.Errorf("must be > 0, or auto for the Young/Daly optimum")
		}
		if err != nil {
			if t == intervalType {
				d.errAt(n, key, "%v (or auto)", err)
			} else {
				d.errAt(n, key, "%v", err)
			}
			return
		}
		v.SetFloat(sec)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			wrong()
			return
		}
		d.decodeStruct(n, v, key)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			wrong()
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			k := join(key, fmt.Sprint(i))
			d.keys[k], d.vals[k] = item, item
			d.decode(item, s.Index(i), k)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			wrong()
			return
		}
		if n.Value == "" && !strings.HasSuffix(key, "description") {
			d.errAt(n, key, "must not be empty")
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode {
			wrong()
			return
		}
		switch strings.ToLower(n.Value) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			wrong()
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode {
			wrong()
			return
		}
		i, err := parseInt(n.Value)
		if err != nil {
			d.errAt(n, key, "%v", err)
			return
		}
		v.SetInt(i)
	case reflect.Uint64:
		if n.Kind != yaml.ScalarNode {
			wrong()
			return
		}
		u, err := parseUint(n.Value)
		if err != nil {
			d.errAt(n, key, "%v", err)
			return
		}
		v.SetUint(u)
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode {
			wrong()
			return
		}
		f, err := ParseQuantity(n.Value)
		if err != nil {
			d.errAt(n, key, "%v", err)
			return
		}
		v.SetFloat(f)
	default:
		panic("scenarios: no decoder for " + t.String())
	}
}

// eachKey walks the pairs of mapping n at key, reporting non-name and
// duplicate keys and, when valid is not nil, unknown ones; fn gets the rest.
func (d *decoder) eachKey(n *yaml.Node, key string, valid []string, fn func(name string, k, v *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			d.errAt(n.Content[i], key, "keys must be names, got %s", describe(n.Content[i]))
			continue
		}
		name := k.Value
		dotted := join(key, name)
		if first := seen[name]; first != nil {
			if d.set[first] > 0 {
				d.errAt(k, dotted, "duplicate key (also given by --set)")
			} else {
				d.errAt(k, dotted, "duplicate key (first at line %d)", first.Line)
			}
			continue
		}
		seen[name] = k
		if valid != nil && !contains(valid, name) {
			where := "valid keys"
			if key != "" {
				where = "valid keys in " + key
			}
			if name == "<<" {
				d.errAt(k, dotted, "YAML merge keys are not supported; %s: %s", where, strings.Join(valid, ", "))
				continue
			}
			d.errAt(k, dotted, "unknown key %q%s; %s: %s", name, suggest(name, valid), where, strings.Join(valid, ", "))
			continue
		}
		d.keys[dotted], d.vals[dotted] = k, v
		fn(name, k, v)
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// decodeStruct decodes mapping n into struct v.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, key string) {
	t := v.Type()
	d.eachKey(n, key, fieldNames(t), func(name string, _, val *yaml.Node) {
		f, _ := lookupField(t, name)
		d.decode(val, v.Field(f.index), join(key, name))
	})
}
