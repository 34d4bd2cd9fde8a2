package clickhouse

import (
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestIncidentMembersCount: an incident row's members counts the member
// detections its evidence leaves out (a long incident lists the first and
// the latest only), as well as those it lists.
func TestIncidentMembersCount(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ev := schemas.Evidence{Time: t0, Role: schemas.EvidenceMember, DetectionID: "d", State: schemas.StateFiring, Device: "a", Severity: schemas.SeverityCritical}
	in := schemas.Incident{Version: schemas.IncidentVersion, ID: "i", State: schemas.IncidentOpen, OpenedAt: t0, UpdatedAt: t0,
		Severity: schemas.SeverityCritical, Rule: schemas.RuleLink, Cause: "c", Evidence: []schemas.Evidence{ev, ev}, EvidenceOmitted: 5}
	c, err := incidentCols([]schemas.Incident{in}, schemas.LayoutModern)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c["members"].([]uint32); !slices.Equal(got, []uint32{7}) {
		t.Errorf("members %v, want [7]", c["members"])
	}
}

// TestIncidentMergedInto: the row of the update that merges an incident
// into another names the other in merged_into, in both layouts, through
// the driver's columns of the DDL's types; every other update's is empty.
func TestIncidentMergedInto(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ev := schemas.Evidence{Time: t0, Role: schemas.EvidenceMember, DetectionID: "d", State: schemas.StateFiring, Device: "a", Severity: schemas.SeverityCritical}
	open := schemas.Incident{Version: schemas.IncidentVersion, ID: "s", State: schemas.IncidentOpen, OpenedAt: t0, UpdatedAt: t0,
		Severity: schemas.SeverityCritical, Rule: schemas.RuleSession, Cause: "c", Evidence: []schemas.Evidence{ev}}
	merged := open
	resolved := t0.Add(time.Minute)
	merged.State, merged.ResolvedAt, merged.MergedInto = schemas.IncidentResolved, &resolved, "l"
	if err := merged.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, l := range []schemas.Layout{schemas.LayoutModern, schemas.LayoutLegacy} {
		c, err := incidentCols([]schemas.Incident{open, merged}, l)
		if err != nil {
			t.Fatal(err)
		}
		b, names := newTestBlock(t, schemas.TableIncidents, l)
		if err := c.appendTo(b, names, schemas.TableIncidents); err != nil {
			t.Fatalf("%v layout: %v", l, err)
		}
		b = b.wireRoundTrip(t)
		col := slices.Index(names, "merged_into")
		for row, want := range []string{"", "l"} {
			var got string
			b.scan(t, col, row, &got)
			if got != want {
				t.Errorf("%v layout: row %d merged_into %q, want %q", l, row, got, want)
			}
		}
	}
}
