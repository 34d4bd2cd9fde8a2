package clickhouse

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

// TestIntegrationApplyAddsMergedInto upgrades an incidents table of the
// builds before merged_into (see checkMergedIntoUpgrade) on the test
// server.
func TestIntegrationApplyAddsMergedInto(t *testing.T) {
	s := newTestSink(t, nil)
	checkMergedIntoUpgrade(t, s, func(q string) [][]any { return httpQuery(t, q) }, nil)
}

// TestClusterApplyAddsMergedInto is TestIntegrationApplyAddsMergedInto on
// the two-shard cluster: Apply adds the column ON CLUSTER to the local
// and the Distributed table, on both nodes.
func TestClusterApplyAddsMergedInto(t *testing.T) {
	s := newClusterSink(t, cluster2s1r, nil)
	sync := url.Values{"insert_distributed_sync": {"1"}}
	checkMergedIntoUpgrade(t, s, func(q string) [][]any { return httpQueryAt(t, testenv.ClusterNode1HTTP, sync, q) },
		[]string{clusterNode1, clusterNode2})
}

// checkMergedIntoUpgrade upgrades s's incidents table from a build before
// merged_into, with an incident merged into another as those builds wrote
// it: no merged_into, bit 0 of update_version (upgradeIncidentsColumn).
// The rows written before read it empty, their merge shows as bit 0 of
// update_version, and a merge written after names the survivor, so
// filtering on an empty merged_into counts each later cause once. query
// runs a statement through s's server (the Distributed tables on a
// cluster, an INSERT waiting for both shards).
func checkMergedIntoUpgrade(t *testing.T, s *Sink, query func(string) [][]any, nodes []string) {
	t.Helper()
	ctx := context.Background()
	t0 := testDay.Add(10 * time.Hour)
	upgradeIncidentsColumn(t, s, query, nodes, "merged_into", append(mergedIncident("old-s", "old-l", t0), mergedIncident("old-l", "", t0)...))
	after := append(mergedIncident("new-s", "new-l", t0), mergedIncident("new-l", "", t0)...)
	if _, err := s.InsertIncidents(ctx, after); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range query("SELECT id, merged_into, bitAnd(update_version, 1) FROM " + s.db + ".incidents FINAL ORDER BY id") {
		got = append(got, fmt.Sprintf("%v:%v:%v", r[0], r[1], r[2]))
	}
	if want := []string{"new-l::0", "new-s:new-l:1", "old-l::0", "old-s::1"}; !slices.Equal(got, want) {
		t.Errorf("incidents (id:merged_into:bit 0): %v, want %v", got, want)
	}
	count := func(where string) string {
		r := query("SELECT uniqExact(id) FROM (SELECT id FROM " + s.db + ".incidents FINAL WHERE " + where + ")")
		return fmt.Sprint(r[0][0])
	}
	if n := count("merged_into = ''"); n != "3" {
		t.Errorf("incidents with merged_into = '': %s, want 3 (new-l, and both of before the upgrade)", n)
	}
	if n := count("merged_into = '' AND bitAnd(update_version, 1) = 0"); n != "2" {
		t.Errorf("incidents neither merged_into nor with bit 0: %s, want 2 (new-l, old-l)", n)
	}
	if len(nodes) == 0 {
		return
	}
	// An Apply that stopped between the two (a build that ran the ALTER
	// of the Distributed table, which 18.16 refuses) left the per-node
	// tables with the column and the Distributed one without: Apply adds
	// it to the Distributed table only.
	for _, node := range nodes {
		nodeExec(t, node, "ALTER TABLE "+s.db+"."+schemas.TableIncidents+" DROP COLUMN merged_into")
	}
	if rep, err := s.Apply(ctx); err != nil || !slices.Equal(rep.Added, []string{"incidents.merged_into"}) {
		t.Fatalf("Apply after a half-done migration: %+v, %v; want incidents.merged_into added", rep, err)
	}
	if n := count("merged_into = ''"); n != "3" {
		t.Errorf("after the half-done migration, incidents with merged_into = '': %s, want 3", n)
	}
}

// mergedIncident returns the updates of incident id, opened at t0 on
// edge1: one open, then, when into is set, one resolving it merged into
// into.
func mergedIncident(id, into string, t0 time.Time) []schemas.Incident {
	in := schemas.Incident{Version: schemas.IncidentVersion, ID: id, State: schemas.IncidentOpen, OpenedAt: t0, UpdatedAt: t0,
		Severity: schemas.SeverityCritical, Rule: schemas.RuleSession, Cause: "session reset on edge1", Confidence: 0.5,
		Entities: []schemas.Entity{{Kind: schemas.EntityDevice, Device: "edge1", Site: "par1"}},
		Evidence: []schemas.Evidence{{Time: t0, Role: schemas.EvidenceMember, DetectionID: "det-" + id, Fingerprint: "fp-" + id,
			State: schemas.StateFiring, Device: "edge1", Metric: metricOper, Keys: "name=Ethernet1", Detector: "state", Severity: schemas.SeverityCritical}}}
	if into == "" {
		return []schemas.Incident{in}
	}
	merged := in
	at := t0.Add(time.Minute)
	merged.State, merged.ResolvedAt, merged.MergedInto = schemas.IncidentResolved, &at, into
	return []schemas.Incident{in, merged}
}

// upgradeIncidentsColumn drops column from s's incidents table (and from
// the local tables of each of nodes, s's cluster), as the builds before
// it created them, and writes before as those builds did, without the
// column. Apply then adds it (on every node) and reports it once, and
// again changes nothing. query runs a statement through s's server.
func upgradeIncidentsColumn(t *testing.T, s *Sink, query func(string) [][]any, nodes []string, column string, before []schemas.Incident) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	tables := []string{schemas.TableIncidents}
	if len(nodes) > 0 {
		tables = append(tables, schemas.TableIncidents+schemas.LocalTableSuffix)
	}
	// Per node: 18.16 runs no ALTER … ON CLUSTER on a Distributed table
	// of a cluster whose shards replicate internally (code 371).
	for _, table := range tables {
		drop := "ALTER TABLE " + s.db + "." + table + " DROP COLUMN " + column
		if len(nodes) == 0 {
			if err := s.conn.Exec(ctx, drop); err != nil {
				t.Fatal(err)
			}
		}
		for _, node := range nodes {
			nodeExec(t, node, drop)
		}
	}
	l, err := s.layout(ctx, schemas.TableIncidents)
	if err != nil {
		t.Fatal(err)
	}
	c, err := incidentCols(before, schemas.LayoutModern)
	if err != nil {
		t.Fatal(err)
	}
	old := slices.DeleteFunc(schemas.ClickHouseColumns(schemas.TableIncidents, l), func(c string) bool { return c == column })
	query(docsInsert(s.db, schemas.TableIncidents, old, sinkRows(c, len(before))))

	rep, err := s.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{schemas.TableIncidents + "." + column}; !slices.Equal(rep.Added, want) || len(rep.Created) != 0 {
		t.Fatalf("upgrading Apply: added %v, created %v; want %v added only", rep.Added, rep.Created, want)
	}
	if rep, err := s.Apply(ctx); err != nil || rep.Changed() {
		t.Fatalf("Apply after the upgrade: %+v, %v; want no change", rep, err)
	}
	for _, node := range nodes {
		for _, table := range tables {
			q := fmt.Sprintf("SELECT count() FROM system.columns WHERE database = '%s' AND table = '%s' AND name = '%s'", s.db, table, column)
			if n := nodeQuery(t, node, q); n != 1 {
				t.Errorf("%s.%s on %s: %d %s columns, want 1", s.db, table, node, n, column)
			}
		}
	}
}
