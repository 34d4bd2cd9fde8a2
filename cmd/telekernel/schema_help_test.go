package main

import (
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestSchemaApplyHelpNamesEveryTable: `schema apply --help` names every
// table that apply creates. Before, it named samples, detections, power,
// maintenance and schema_version, and left out the incidents and
// inventory tables it creates too.
func TestSchemaApplyHelpNamesEveryTable(t *testing.T) {
	_, out, _ := tk(t, "schema", "apply", "--help")
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(out, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		words[w] = true
	}
	for _, local := range schemas.ClickHouseClusterTables() {
		table := strings.TrimSuffix(local, schemas.LocalTableSuffix)
		if !words[table] {
			t.Errorf("schema apply --help does not name table %s", table)
		}
	}
}
