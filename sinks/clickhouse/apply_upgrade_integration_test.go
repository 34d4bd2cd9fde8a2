package clickhouse

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// oldRollupViews replaces the rollup views of s's database with the
// definitions of the builds before RollupFiniteF64 (which aggregated
// value_f64 as it came), as an upgraded deployment has them: on every
// node when s writes to a cluster.
func oldRollupViews(t *testing.T, s *Sink) {
	t.Helper()
	ctx := context.Background()
	v, err := s.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range schemas.ClickHouseDDL(s.cfg.Database, v, schemas.DDLOptions{Cluster: s.cfg.Cluster}) {
		m := createdObject.FindStringSubmatch(stmt)
		if m == nil || !strings.HasPrefix(m[0], "CREATE MATERIALIZED VIEW") {
			continue
		}
		_, view, _ := strings.Cut(m[1], ".")
		if err := s.conn.Exec(ctx, schemas.ClickHouseDropView(s.cfg.Database, s.cfg.Cluster, view)); err != nil {
			t.Fatal(err)
		}
		old := strings.ReplaceAll(stmt, schemas.RollupFiniteF64, "value_f64")
		if old == stmt {
			t.Fatalf("the view has no %s to undo:\n%s", schemas.RollupFiniteF64, stmt)
		}
		if err := s.conn.Exec(ctx, old); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIntegrationApplyUpgradesRollupViews upgrades a deployment whose
// rollup views have the earlier definition and already hold rollup rows
// (written with a NaN and a +Inf): Apply replaces both views, keeps the
// rollup tables and their rows, reports the replacement once (a second
// Apply changes nothing), and the next minute's non-finite readings are
// left out.
func TestIntegrationApplyUpgradesRollupViews(t *testing.T) {
	checkRollupUpgrade(t, newTestSink(t, nil), nil)
}

// checkRollupUpgrade is the body of TestIntegrationApplyUpgradesRollupViews
// on s's database. views, when set, returns the definitions of the views on
// each node of s's cluster, which must all be current after the upgrade.
func checkRollupUpgrade(t *testing.T, s *Sink, views func(view string) []string) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	if _, err := s.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	oldRollupViews(t, s)

	before := testDay.Add(10 * time.Hour)
	rows, _ := nonFiniteMinute(before)
	recs := records(mem, rows, 3)
	defer release(recs)
	if _, err := s.InsertSamples(ctx, recs); err != nil {
		t.Fatal(err)
	}
	old := readRollup(t, s, schemas.TableSamples1m, before)
	t.Logf("before the upgrade, edge1: samples %d, avg %v, max %v, quantiles %v", old["edge1"].samples, old["edge1"].avg, old["edge1"].max, old["edge1"].q)
	if !math.IsNaN(old["edge1"].avg) {
		t.Fatalf("the old view gives avg %v, want NaN (is oldRollupViews the old definition?)", old["edge1"].avg)
	}

	rep, err := s.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{schemas.ViewSamples1h, schemas.ViewSamples1m}
	if !slices.Equal(rep.Replaced, want) || len(rep.Created) != 0 || len(rep.Added) != 0 {
		t.Fatalf("upgrading Apply: replaced %v, created %v, added %v; want replaced %v only", rep.Replaced, rep.Created, rep.Added, want)
	}
	if rep, err = s.Apply(ctx); err != nil || rep.Changed() {
		t.Fatalf("Apply after the upgrade: %+v, %v; want no change", rep, err)
	}
	for _, view := range want {
		var def string
		if err := s.conn.QueryRow(ctx, "SELECT create_table_query FROM system.tables WHERE database = ? AND name = ?", s.cfg.Database, view).Scan(&def); err != nil {
			t.Fatal(err)
		}
		if !schemas.RollupViewIsCurrent(def) {
			t.Errorf("%s after the upgrade:\n%s", view, def)
		}
		if views == nil {
			continue
		}
		for i, def := range views(view) {
			if !schemas.RollupViewIsCurrent(def) {
				t.Errorf("%s on node %d after the upgrade:\n%s", view, i+1, def)
			}
		}
	}
	for _, table := range []string{schemas.TableSamples1m, schemas.TableSamples1h} {
		b := before
		if table == schemas.TableSamples1h {
			b = before.Truncate(time.Hour)
		}
		got := readRollup(t, s, table, b)
		if got["edge1"].samples != 8 || got["edge2"].samples != 2 {
			t.Errorf("%s after the upgrade holds edge1 %d and edge2 %d samples of the minute before it, want 8 and 2", table, got["edge1"].samples, got["edge2"].samples)
		}
	}

	after := before.Add(time.Hour)
	rows, finite := nonFiniteMinute(after)
	recs2 := records(mem, rows, 3)
	defer release(recs2)
	if _, err := s.InsertSamples(ctx, recs2); err != nil {
		t.Fatal(err)
	}
	checkNonFiniteRollup(t, s, after, finite)
}

// TestClusterApplyUpgradesRollupViews is TestIntegrationApplyUpgradesRollupViews
// on the two-shard cluster: the views are replaced ON CLUSTER, on both
// nodes, and the rollup rows of both shards survive.
func TestClusterApplyUpgradesRollupViews(t *testing.T) {
	s := newClusterSink(t, cluster2s1r, nil)
	checkRollupUpgrade(t, s, func(view string) []string {
		var out []string
		for _, node := range []string{clusterNode1, clusterNode2} {
			out = append(out, nodeExec(t, node, fmt.Sprintf("SELECT create_table_query FROM system.tables WHERE database = '%s' AND name = '%s'", s.cfg.Database, view)))
		}
		return out
	})
}
