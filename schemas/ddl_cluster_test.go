package schemas

import (
	"strings"
	"testing"
)

// TestClickHouseDDLCluster checks the cluster form in both layouts: every
// statement runs ON CLUSTER, data tables are Replicated per node, and the
// Distributed tables keep the plain names over them.
func TestClickHouseDDLCluster(t *testing.T) {
	for _, l := range []Layout{LayoutModern, LayoutLegacy} {
		t.Run(l.String(), func(t *testing.T) {
			single := ClickHouseDDL("tk", ServerVersion{Major: 18, Minor: 16}, DDLOptions{Layout: l})
			stmts := ClickHouseDDL("tk", ServerVersion{Major: 18, Minor: 16}, DDLOptions{Layout: l, Cluster: "c1"})
			if got, want := len(stmts), len(single)+len(distributedTables); got != want {
				t.Fatalf("cluster form has %d statements, want %d", got, want)
			}
			all := strings.Join(stmts, "\n;\n")
			for _, s := range stmts {
				if !strings.Contains(s, " ON CLUSTER c1") {
					t.Errorf("statement without ON CLUSTER:\n%s", s)
				}
				if strings.Contains(s, "ENGINE = ReplacingMergeTree") || strings.Contains(s, "ENGINE = AggregatingMergeTree") {
					t.Errorf("unreplicated engine in the cluster form:\n%s", s)
				}
			}
			for _, want := range []string{
				"CREATE TABLE IF NOT EXISTS tk.samples_local ON CLUSTER c1\n(",
				"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/c1/{shard}/tk/samples_local', '{replica}')",
				"ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/c1/{shard}/tk/samples_1m_local', '{replica}')",
				"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/c1/all/tk/schema_version', '{replica}')",
				"CREATE MATERIALIZED VIEW IF NOT EXISTS tk.samples_1h_mv ON CLUSTER c1 TO tk.samples_1h_local AS",
				"FROM tk.samples_local\n",
				"CREATE TABLE IF NOT EXISTS tk.samples ON CLUSTER c1 AS tk.samples_local\nENGINE = Distributed('c1', 'tk', 'samples_local', cityHash64(device))",
				"CREATE TABLE IF NOT EXISTS tk.samples_1m ON CLUSTER c1 AS tk.samples_1m_local\nENGINE = Distributed('c1', 'tk', 'samples_1m_local', cityHash64(device))",
			} {
				if !strings.Contains(all, want) {
					t.Errorf("cluster DDL lacks %q", want)
				}
			}
			// The single-server form is untouched by the cluster machinery.
			for _, s := range single {
				if strings.Contains(s, "ON CLUSTER") || strings.Contains(s, "Replicated") || strings.Contains(s, LocalTableSuffix) {
					t.Errorf("single-server statement has cluster parts:\n%s", s)
				}
			}
		})
	}
	got := ClickHouseDDL("tk", ServerVersion{Major: 24, Minor: 8}, DDLOptions{Cluster: "c1", ReplicaPath: "/ch/c1/1/"})
	if !strings.Contains(strings.Join(got, "\n"), "ReplicatedReplacingMergeTree('/ch/c1/1/tk/detections_local', '{replica}')") {
		t.Errorf("ReplicaPath not used")
	}
}

func TestClickHouseAddColumnCluster(t *testing.T) {
	got := ClickHouseAddColumnCluster("tk", "c1", TableSamples, LayoutLegacy, "source")
	if len(got) != 2 ||
		!strings.HasPrefix(got[0], "ALTER TABLE tk.samples_local ON CLUSTER c1 ADD COLUMN source String") ||
		!strings.HasPrefix(got[1], "ALTER TABLE tk.samples ON CLUSTER c1 ADD COLUMN source String") {
		t.Errorf("ClickHouseAddColumnCluster = %q", got)
	}
	if got := ClickHouseAddColumnCluster("tk", "c1", TableSamples, LayoutModern, "ts_frac"); got != nil {
		t.Errorf("column absent from the layout: got %q, want nil", got)
	}
}

// TestClickHouseDropView checks the statement Apply drops a rollup view of
// an earlier build with, on one server and on every node of a cluster.
func TestClickHouseDropView(t *testing.T) {
	f := func(db, cluster, want string) {
		t.Helper()
		if got := ClickHouseDropView(db, cluster, ViewSamples1m); got != want {
			t.Errorf("ClickHouseDropView(%q, %q) = %q, want %q", db, cluster, got, want)
		}
	}
	f("telekernel", "", "DROP TABLE IF EXISTS telekernel.samples_1m_mv")
	f("telekernel", "tk_2s1r", "DROP TABLE IF EXISTS telekernel.samples_1m_mv ON CLUSTER tk_2s1r")
	f("tk-db", "c", "DROP TABLE IF EXISTS `tk-db`.samples_1m_mv ON CLUSTER c")
}

// TestRollupViewIsCurrent checks that every generated rollup view counts as
// current and the earlier builds' definition (value_f64 as it came) does not.
func TestRollupViewIsCurrent(t *testing.T) {
	for _, opts := range []DDLOptions{{Layout: LayoutLegacy}, {Layout: LayoutModern}, {Layout: LayoutLegacy, Cluster: "c"}, {Layout: LayoutModern, Cluster: "c"}} {
		n := 0
		for _, stmt := range ClickHouseDDL("telekernel", ServerVersion{Major: 18, Minor: 16}, opts) {
			if !strings.Contains(stmt, "CREATE MATERIALIZED VIEW") {
				continue
			}
			n++
			if !RollupViewIsCurrent(stmt) {
				t.Errorf("%+v: generated view is not current:\n%s", opts, stmt)
			}
			if old := strings.ReplaceAll(stmt, RollupFiniteF64, "value_f64"); RollupViewIsCurrent(old) {
				t.Errorf("%+v: the earlier definition counts as current:\n%s", opts, old)
			}
		}
		if n != 2 {
			t.Errorf("%+v: %d views, want 2", opts, n)
		}
	}
}
