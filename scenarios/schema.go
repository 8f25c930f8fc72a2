package scenarios

import _ "embed"

//go:embed schema.yaml
var schema []byte

// Schema returns the documented scenario schema: every key as commented
// YAML, with its type, default and valid range (`clustersim scenarios
// schema` prints it).
func Schema() []byte { return append([]byte(nil), schema...) }
