package clickhouse

import (
	"maps"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestAllExist: Apply skips the DDL only when every table and view it
// creates exists, on one server and on a cluster, in both layouts.
func TestAllExist(t *testing.T) {
	for _, o := range []schemas.DDLOptions{{}, {Cluster: "c", ReplicaPath: "/clickhouse/tables/c/1"}} {
		for _, v := range []schemas.ServerVersion{{Major: 18, Minor: 16}, {Major: 24, Minor: 8}} {
			stmts := schemas.ClickHouseDDL("tk", v, o)
			all := map[string]bool{}
			for _, stmt := range stmts {
				if m := createdObject.FindStringSubmatch(stmt); m != nil && m[1] != "tk" {
					all[m[1][len("tk."):]] = true
				}
			}
			if len(all) < 10 {
				t.Fatalf("%v %v: found %d objects in the DDL: %v", o.Cluster, v, len(all), all)
			}
			if !allExist(stmts, all) {
				t.Errorf("%v %v: allExist with every object = false", o.Cluster, v)
			}
			if allExist(stmts, nil) {
				t.Errorf("%v %v: allExist on an empty database = true", o.Cluster, v)
			}
			for name := range all {
				less := maps.Clone(all)
				delete(less, name)
				if allExist(stmts, less) {
					t.Errorf("%v %v: allExist without %s = true", o.Cluster, v, name)
				}
			}
			if allExist(append(stmts, "ALTER TABLE tk.samples ADD COLUMN x UInt8"), all) {
				t.Errorf("%v %v: allExist with a statement that creates nothing = true", o.Cluster, v)
			}
		}
	}
}
