package clickhouse

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/schemas"
)

// stormFabric returns spines spines over leaves leaves, each leaf linked
// to every spine, the leaves at sites site0 to site4 in turn, and the
// firing link downs of every leaf's uplinks (spines lost, no collector
// reporting them), one second apart per leaf.
func stormFabric(spines, leaves int) (*schemas.Inventory, []schemas.Detection) {
	inv := &schemas.Inventory{Version: schemas.InventoryVersion}
	for s := 1; s <= spines; s++ {
		inv.Devices = append(inv.Devices, schemas.Device{Name: fmt.Sprintf("spine%d", s), Site: "core", Role: "spine"})
	}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var dets []schemas.Detection
	for l := 1; l <= leaves; l++ {
		leaf := fmt.Sprintf("leaf%d", l)
		inv.Devices = append(inv.Devices, schemas.Device{Name: leaf, Site: fmt.Sprintf("site%d", l%5), Role: "leaf"})
		for s := 1; s <= spines; s++ {
			inv.Links = append(inv.Links, schemas.InvLink{A: schemas.Port{Device: fmt.Sprintf("spine%d", s), Interface: fmt.Sprintf("e%d", l)},
				B: schemas.Port{Device: leaf, Interface: fmt.Sprintf("e%d", s)}})
			keys, at := fmt.Sprintf("name=e%d", s), t0.Add(time.Duration(l%30)*time.Second)
			lb := schemas.AlertLabels(leaf, metricOper, keys)
			dets = append(dets, schemas.Detection{Version: schemas.DetectionVersion, ID: fmt.Sprintf("%s/%s", leaf, keys),
				EventTime: at, DetectedAt: at, StartsAt: at, State: schemas.StateFiring, Device: leaf, Metric: metricOper, Keys: keys,
				Detector: "link_down", Severity: schemas.SeverityCritical, Observed: 0, Expected: 1, Labels: lb, Fingerprint: schemas.Fingerprint(lb)})
		}
	}
	return inv, dets
}

// TestIncidentRowHasAllDevices runs a storm of 60 leaves at 5 sites
// losing their uplinks to 4 spines through the correlate engine with
// max_entities 20, and flattens each update into the incidents columns:
// a row's devices and sites are those of the same update from an engine
// listing every entity (60 leaves, 5 sites). Before, they were those of
// the 20 entities listed: has(devices, 'leaf59') missed the storm.
func TestIncidentRowHasAllDevices(t *testing.T) {
	inv, dets := stormFabric(4, 60)
	updates := func(max int) []schemas.Incident {
		e, err := incidents.New(incidents.Config{MaxEntities: max}, inv)
		if err != nil {
			t.Fatal(err)
		}
		var out []schemas.Incident
		for i := range dets {
			for _, in := range e.Add(&dets[i]) {
				out = append(out, *in)
			}
		}
		return out
	}
	bounded, all := updates(20), updates(1<<30)
	if len(bounded) != len(all) {
		t.Fatalf("%d updates, %d without the bound", len(bounded), len(all))
	}
	c, err := incidentCols(bounded, schemas.LayoutModern)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := incidentCols(all, schemas.LayoutModern)
	if err != nil {
		t.Fatal(err)
	}
	omitted := 0
	for i := range bounded {
		if bounded[i].EntitiesOmitted > 0 {
			omitted++
		}
		for _, col := range []string{"devices", "sites"} {
			if got, want := c[col].([][]string)[i], ref[col].([][]string)[i]; !slices.Equal(got, want) {
				t.Fatalf("update %d (%d entities listed, %d left out): %s %q, want %q", i, len(bounded[i].Entities), bounded[i].EntitiesOmitted, col, got, want)
			}
		}
	}
	if last := ref["devices"].([][]string)[len(all)-1]; omitted == 0 || len(last) != 60 {
		t.Errorf("%d updates leave entities out, and the last names %d devices; want some, and 60", omitted, len(last))
	}
}

// TestIncidentRowDevicesFallBack: through the stage's decoding of the
// JSON, an update with devices and sites gives them (and those of its
// listed entities) to the row, and one without them, as a build before
// them writes, those of its listed entities. Before, the row had the
// listed entities' only, whatever the update said.
func TestIncidentRowDevicesFallBack(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	full := omittedIncident("full", t0, 2, 9000)
	full.Devices, full.Sites = []string{"edge1", "edge2", "edge9", "spine1"}, []string{"ams1", "lon1", "par1"}
	var ins []schemas.Incident
	for _, in := range []schemas.Incident{full, omittedIncident("old", t0, 2, 9000)} {
		b, err := schemas.MarshalIncident(&in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeIncident(&kgo.Record{Value: b})
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, got...)
	}
	c, err := incidentCols(ins, schemas.LayoutLegacy)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][][]string{
		"devices": {{"edge1", "edge2", "edge9", "spine1"}, {"edge1", "edge2"}},
		"sites":   {{"ams1", "lon1", "par1"}, {"lon1", "par1"}},
	}
	for col, w := range want {
		if got := c[col].([][]string); !slices.EqualFunc(got, w, slices.Equal) {
			t.Errorf("%s: %q, want %q", col, got, w)
		}
	}
}
