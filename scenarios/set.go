package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim/model"
	"go.yaml.in/yaml/v3"
)

// applySet applies one --set override, "path=value", to the document's
// root mapping. i is its index among the overrides. The value is parsed
// as YAML (a scalar, or a flow list or mapping); keys the path names that
// the file lacks are created when the schema has them.
func (d *decoder) applySet(root *yaml.Node, set string, i int) {
	fail := func(key, format string, args ...any) {
		d.errs.add(&Error{File: SetFile, Key: key, Msg: fmt.Sprintf(format, args...), set: i + 1})
	}
	if !utf8.ValidString(set) {
		fail("", "%q is not valid UTF-8", set)
		return
	}
	path, value, ok := strings.Cut(set, "=")
	path = strings.TrimSpace(path)
	if !ok || path == "" {
		fail("", "want path=value (e.g. parallelism.pp=8), got %q", set)
		return
	}
	segs := strings.Split(path, ".")
	for _, s := range segs {
		if s == "" {
			fail(path, "empty key in path %q", path)
			return
		}
	}
	if segs[0] == "sweep" {
		fail(path, "the sweep block is not changed with --set; give swept values to the sweep command instead: clustersim sweep SCENARIO --set path=v1,v2")
		return
	}
	n := root
	t := reflect.TypeFor[Scenario]()
	// Past an alias the override works on copies, so that it changes this
	// place only and not the anchor's other uses.
	copied := false
	child := func(idx int) *yaml.Node {
		if copied {
			c := shallowCopy(n.Content[idx])
			n.Content[idx] = c
		}
		return n.Content[idx]
	}
	for j, seg := range segs {
		key := strings.Join(segs[:j+1], ".")
		parent := strings.Join(segs[:j], ".")
		last := j == len(segs)-1
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if n.Kind == yaml.AliasNode {
			target := resolve(n)
			if target == nil || target.Kind == yaml.AliasNode {
				fail(key, "%s is an unresolvable alias", parent)
				return
			}
			*n = *shallowCopy(target)
			copied = true
		}
		switch {
		case t == modelType && n.Kind == yaml.ScalarNode:
			if _, ok := lookupField(t, seg); !ok {
				fail(key, "unknown key %q%s; valid keys in model: %s", seg, suggest(seg, fieldNames(t)), strings.Join(fieldNames(t), ", "))
				return
			}
			a, err := model.LookupArch(n.Value)
			if err != nil {
				fail(key, "cannot set %s: %v", key, err)
				return
			}
			*n = *archNode(a)
			mark(n, d.set, i+1)
		case t == profileType && n.Kind == yaml.ScalarNode:
			p, err := failure.Lookup(n.Value)
			if err != nil {
				fail(key, "cannot set %s: %v", key, err)
				return
			}
			*n = *profileNode(p)
			mark(n, d.set, i+1)
		}
		var next *yaml.Node
		var nextType reflect.Type
		switch {
		case t == profileType:
			if n.Kind != yaml.MappingNode {
				fail(key, "%s is %s, not a mapping of causes", parent, describe(n))
				return
			}
			nextType = reflect.TypeFor[Cause]()
			if k := mapIndex(n, seg); k >= 0 {
				next = child(k)
			} else {
				next = &yaml.Node{Kind: yaml.MappingNode}
				mapPut(n, seg, next, d.set, i+1)
			}
		case t.Kind() == reflect.Struct:
			f, ok := lookupField(t, seg)
			if !ok {
				where := "valid keys"
				if parent != "" {
					where += " in " + parent
				}
				fail(key, "unknown key %q%s; %s: %s", seg, suggest(seg, fieldNames(t)), where, strings.Join(fieldNames(t), ", "))
				return
			}
			if n.Kind != yaml.MappingNode {
				fail(key, "%s is %s, not a mapping", parent, describe(n))
				return
			}
			nextType = t.Field(f.index).Type
			if k := mapIndex(n, seg); k >= 0 {
				next = child(k)
			} else {
				next = emptyFor(nextType)
				mapPut(n, seg, next, d.set, i+1)
			}
		case t.Kind() == reflect.Slice:
			if n.Kind != yaml.SequenceNode {
				fail(key, "%s is %s, not a list", parent, describe(n))
				return
			}
			idx, err := strconv.Atoi(seg)
			if err != nil || idx < 0 || idx > len(n.Content) {
				if len(n.Content) == 0 {
					fail(key, "%q is not an index of %s, which is empty: use 0 to add an element", seg, parent)
				} else {
					fail(key, "%q is not an index of %s: use 0 to %d, or %d to add an element", seg, parent, len(n.Content)-1, len(n.Content))
				}
				return
			}
			nextType = t.Elem()
			if idx == len(n.Content) {
				next = emptyFor(nextType)
				mark(next, d.set, i+1)
				n.Content = append(n.Content, next)
			} else {
				next = child(idx)
			}
		default:
			fail(key, "%s is %s and has no key %q", parent, expect(t), seg)
			return
		}
		if last {
			val, err := parseSetValue(value, nextType)
			if err != nil {
				fail(path, "bad value %q: %v", value, err)
				return
			}
			*next = *val
			mark(next, d.set, i+1)
			return
		}
		n, t = next, nextType
	}
}

// parseSetValue parses a --set value for a key of type t as one YAML
// node. An empty value is the empty string, and so is, for a text key, a
// value that YAML does not read as a scalar ("Llama: 405B").
func parseSetValue(s string, t reflect.Type) (*yaml.Node, error) {
	raw := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.TrimSpace(s) == "" {
		return raw, nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var doc yaml.Node
	err := safeUnmarshal([]byte(s), &doc)
	text := t.Kind() == reflect.String
	if text && (err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.ScalarNode) {
		return raw, nil
	}
	if err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("not a YAML value")
	}
	if doc.Content[0].Kind == yaml.AliasNode || doc.Content[0].Anchor != "" {
		return nil, fmt.Errorf("anchors and aliases are not supported in --set")
	}
	return doc.Content[0], nil
}

// mark records n and everything under it as put there by --set i.
func mark(n *yaml.Node, set map[*yaml.Node]int, i int) {
	if n == nil {
		return
	}
	set[n] = i
	for _, c := range n.Content {
		mark(c, set, i)
	}
}

// mapIndex returns the index in n.Content of the value of key in mapping
// n, or -1.
func mapIndex(n *yaml.Node, key string) int {
	for j := 0; j+1 < len(n.Content); j += 2 {
		if k := resolve(n.Content[j]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			return j + 1
		}
	}
	return -1
}

// mapPut appends key: v to mapping n, marking the key as --set i's.
func mapPut(n *yaml.Node, key string, v *yaml.Node, set map[*yaml.Node]int, i int) {
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	set[k], set[v] = i, i
	n.Content = append(n.Content, k, v)
}

// emptyFor is the node a missing key of type t starts as: an empty mapping
// for the schema's structs and custom profiles, an empty list for lists.
func emptyFor(t reflect.Type) *yaml.Node {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct:
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	case t.Kind() == reflect.Slice:
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
}

// shallowCopy copies n and its list of children, not the children.
func shallowCopy(n *yaml.Node) *yaml.Node {
	c := *n
	c.Anchor = ""
	c.Content = slices.Clone(n.Content)
	return &c
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

func boolScalar(b bool) *yaml.Node { return scalar(strconv.FormatBool(b)) }

func intScalar(i int) *yaml.Node { return scalar(strconv.Itoa(i)) }

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for j := 0; j+1 < len(kv); j += 2 {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv[j].(string)}, kv[j+1].(*yaml.Node))
	}
	return n
}

// archNode writes a built-in architecture as an inline model mapping.
func archNode(a model.Arch) *yaml.Node {
	return mapping(
		"layers", intScalar(a.Layers),
		"hidden", intScalar(a.Hidden),
		"ffn_hidden", intScalar(a.FFNHidden),
		"heads", intScalar(a.Heads),
		"kv_heads", intScalar(a.KVHeads),
		"vocab", intScalar(a.Vocab),
		"mlp", scalar(a.MLP.String()),
		"tied_embeddings", boolScalar(a.TiedEmbeddings),
		"dropout", boolScalar(a.Dropout),
	)
}

// profileNode writes a built-in failure profile as a custom mapping.
func profileNode(p failure.Profile) *yaml.Node {
	n := mapping()
	for _, c := range p.Causes {
		cn := mapping(
			"rate", scalar(formatQuantity(c.RatePerDay)),
			"per", scalar(c.Unit.String()),
		)
		if c.Planned {
			cn.Content = append(cn.Content, mapping("planned", boolScalar(true)).Content...)
		}
		if c.RecoveryS != 0 {
			cn.Content = append(cn.Content, mapping("recovery", scalar(formatDuration(c.RecoveryS))).Content...)
		}
		n.Content = append(n.Content, mapping(c.Name, cn).Content...)
	}
	return n
}
