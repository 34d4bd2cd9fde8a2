package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/schemas"
)

// TestIntegrationIncidentDevicesAll writes, through the stage (the JSON
// of tk.incidents), every update of a storm of 60 leaves at 5 sites
// losing their uplinks to 4 spines, as the correlate engine gives them
// with max_entities 20, and an update of a build before devices (its
// listed entities' only), and asks incidents FINAL which incident has
// leaf59 and what it names. Before, the storm's row had the devices and
// sites of its first 20 entities: has(devices, 'leaf59') found nothing.
func TestIntegrationIncidentDevicesAll(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	inv, dets := stormFabric(4, 60)
	e, err := incidents.New(incidents.Config{MaxEntities: 20}, inv)
	if err != nil {
		t.Fatal(err)
	}
	var ins []*schemas.Incident
	for i := range dets {
		ins = append(ins, e.Add(&dets[i])...)
	}
	old := omittedIncident("old", time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC), 2, 9000)
	st := NewIncidentsStage(s)
	for _, in := range append(ins, &old) {
		v, err := schemas.MarshalIncident(in)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Add(ctx, &kgo.Record{Key: []byte(in.ID), Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.Flush(ctx); err != nil || n != len(ins)+1 {
		t.Fatalf("Flush = %d, %v; want %d updates", n, err, len(ins)+1)
	}
	var got []string
	for _, r := range httpQuery(t, "SELECT id, entities_omitted > 0, length(devices), has(devices, 'leaf59'), arrayStringConcat(sites, ',') FROM "+
		s.db+".incidents FINAL WHERE merged_into = '' ORDER BY id = 'old', id") {
		got = append(got, fmt.Sprintf("%v:%v:%v:%v", r[1], r[2], r[3], r[4]))
	}
	if want := []string{"1:60:1:site0,site1,site2,site3,site4", "1:2:0:lon1,par1"}; !slices.Equal(got, want) {
		t.Errorf("incidents (omitted:devices:has leaf59:sites): %v, want %v", got, want)
	}
}
