package clickhouse

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// omittedIncident returns an open link incident listing n devices (edge1,
// edge2, … at sites par1 and lon1 in turn) and leaving out omitted more.
func omittedIncident(id string, t0 time.Time, n, omitted int) schemas.Incident {
	in := schemas.Incident{Version: schemas.IncidentVersion, ID: id, State: schemas.IncidentOpen, OpenedAt: t0, UpdatedAt: t0,
		Severity: schemas.SeverityCritical, Rule: schemas.RuleDevice, Cause: "spine1 down", Confidence: 0.9,
		Evidence: []schemas.Evidence{{Time: t0, Role: schemas.EvidenceMember, DetectionID: "det-" + id, Fingerprint: "fp-" + id,
			State: schemas.StateFiring, Device: "edge1", Metric: metricOper, Keys: "name=Ethernet1", Detector: "state", Severity: schemas.SeverityCritical}},
		EntitiesOmitted: omitted}
	for i := 1; i <= n; i++ {
		in.Entities = append(in.Entities, schemas.Entity{Kind: schemas.EntityDevice, Device: fmt.Sprintf("edge%d", i), Site: []string{"par1", "lon1"}[i%2]})
	}
	return in
}

// TestIncidentEntitiesOmitted: an incident row's entities_omitted is the
// update's EntitiesOmitted, in both layouts, through the driver's columns
// of the DDL's types; 0 for an update listing every entity. Before, the
// incidents table had no such column, so a row of a storm's incident
// listing the first 1 000 entities read like one naming no more.
func TestIncidentEntitiesOmitted(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ins := []schemas.Incident{omittedIncident("a", t0, 3, 0), omittedIncident("b", t0, 3, 9000)}
	for _, l := range []schemas.Layout{schemas.LayoutModern, schemas.LayoutLegacy} {
		c, err := incidentCols(ins, l)
		if err != nil {
			t.Fatal(err)
		}
		b, names := newTestBlock(t, schemas.TableIncidents, l)
		col := slices.Index(names, "entities_omitted")
		if col < 0 {
			t.Fatalf("%v layout: the incidents table has no entities_omitted column: %v", l, names)
		}
		if err := c.appendTo(b, names, schemas.TableIncidents); err != nil {
			t.Fatalf("%v layout: %v", l, err)
		}
		b = b.wireRoundTrip(t)
		for row, want := range []uint32{0, 9000} {
			var got uint32
			b.scan(t, col, row, &got)
			if got != want {
				t.Errorf("%v layout: row %d entities_omitted %d, want %d", l, row, got, want)
			}
		}
	}
}
