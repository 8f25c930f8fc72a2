package scenarios

import (
	"reflect"
	"strings"
	"testing"
)

// TestSchemaDocumentsEveryKey: every key of the Scenario types appears in
// the documented schema, so that it cannot fall behind the code.
func TestSchemaDocumentsEveryKey(t *testing.T) {
	doc := string(Schema())
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, prefix string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] {
			return
		}
		seen[ty] = true
		for _, f := range fields(ty) {
			key := join(prefix, f.name)
			if !strings.Contains(doc, f.name+":") {
				t.Errorf("schema.yaml does not document %s", key)
			}
			walk(ty.Field(f.index).Type, key)
		}
	}
	walk(reflect.TypeFor[Scenario](), "")
}
