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
