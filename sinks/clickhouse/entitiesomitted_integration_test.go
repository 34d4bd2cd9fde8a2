package clickhouse

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

// TestIntegrationIncidentEntitiesOmitted writes, through the stage (the
// JSON of tk.incidents), an incident listing every entity and the two
// updates of one listing the first of them and leaving 9 000 out, and
// reads entities_omitted and devices back from incidents FINAL. Before,
// the table had no entities_omitted: the storm's row read as an incident
// of its listed devices only.
func TestIntegrationIncidentEntitiesOmitted(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := testDay.Add(10 * time.Hour)
	first := omittedIncident("storm", t0, 2, 0)
	later := omittedIncident("storm", t0, 3, 9000)
	later.UpdatedAt = t0.Add(time.Second)
	later.Evidence = append(later.Evidence, later.Evidence[0])
	later.Evidence[1].DetectionID, later.Evidence[1].Time = "det-storm-2", later.UpdatedAt
	st := NewIncidentsStage(s)
	for _, in := range []schemas.Incident{first, later, omittedIncident("small", t0, 1, 0)} {
		v, err := schemas.MarshalIncident(&in)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Add(ctx, &kgo.Record{Key: []byte(in.ID), Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.Flush(ctx); err != nil || n != 3 {
		t.Fatalf("Flush = %d, %v; want 3 updates", n, err)
	}
	var got []string
	for _, r := range httpQuery(t, "SELECT id, entities_omitted, arrayStringConcat(devices, ',') FROM "+s.db+".incidents FINAL ORDER BY id") {
		got = append(got, fmt.Sprintf("%v:%v:%v", r[0], r[1], r[2]))
	}
	if want := []string{"small:0:edge1", "storm:9000:edge1,edge2,edge3"}; !slices.Equal(got, want) {
		t.Errorf("incidents (id:entities_omitted:devices): %v, want %v", got, want)
	}
}

// TestIntegrationApplyAddsEntitiesOmitted upgrades an incidents table of
// the builds before entities_omitted (see checkEntitiesOmittedUpgrade) on
// the test server. Before, Apply had no such column to add.
func TestIntegrationApplyAddsEntitiesOmitted(t *testing.T) {
	s := newTestSink(t, nil)
	checkEntitiesOmittedUpgrade(t, s, func(q string) [][]any { return httpQuery(t, q) }, nil)
}

// TestClusterApplyAddsEntitiesOmitted is
// TestIntegrationApplyAddsEntitiesOmitted on the two-shard cluster: Apply
// adds the column ON CLUSTER to the local and the Distributed table, on
// both nodes. Before, Apply had no such column to add.
func TestClusterApplyAddsEntitiesOmitted(t *testing.T) {
	s := newClusterSink(t, cluster2s1r, nil)
	sync := url.Values{"insert_distributed_sync": {"1"}}
	checkEntitiesOmittedUpgrade(t, s, func(q string) [][]any { return httpQueryAt(t, testenv.ClusterNode1HTTP, sync, q) },
		[]string{clusterNode1, clusterNode2})
}

// checkEntitiesOmittedUpgrade upgrades s's incidents table from a build
// before entities_omitted, with a row written by it
// (upgradeIncidentsColumn): that row reads 0, one written after its
// EntitiesOmitted. query runs a statement through s's server (the
// Distributed tables on a cluster, an INSERT waiting for both shards).
func checkEntitiesOmittedUpgrade(t *testing.T, s *Sink, query func(string) [][]any, nodes []string) {
	t.Helper()
	t0 := testDay.Add(10 * time.Hour)
	upgradeIncidentsColumn(t, s, query, nodes, "entities_omitted", []schemas.Incident{omittedIncident("old", t0, 2, 0)})
	ctx := context.Background()
	if _, err := s.InsertIncidents(ctx, []schemas.Incident{omittedIncident("new", t0, 2, 9000)}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range query("SELECT id, entities_omitted, arrayStringConcat(devices, ',') FROM " + s.db + ".incidents FINAL ORDER BY id") {
		got = append(got, fmt.Sprintf("%v:%v:%v", r[0], r[1], r[2]))
	}
	if want := []string{"new:9000:edge1,edge2", "old:0:edge1,edge2"}; !slices.Equal(got, want) {
		t.Errorf("incidents (id:entities_omitted:devices): %v, want %v", got, want)
	}
}
