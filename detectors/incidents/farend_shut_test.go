package incidents

import (
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestShutBesideFarEnd: spine1:e1 shut on purpose (its admin_down,
// the far end leaf1:e1 down) and, 30 s later, leaf2's optic towards
// spine1 failing (leaf2:e1 down, spine1:e2 down with it: spine1 is
// collected, it reported the shut) are two incidents: the shut of severity
// info, and a critical link. Before, leaf2:e1 joined the shut's incident
// by its far end (farEndJoins asks only that some link of the incident
// face spine1, not that spine1 be silent), which made the planned shut a
// critical "links ... down" with leaf2's; in event-time order and with
// spine1:e2 first alike.
func TestShutBesideFarEnd(t *testing.T) {
	spineShut := func(sec int) schemas.Detection {
		d := det(sec, schemas.StateFiring, "spine1", mAdmin, "name=e1", "admin_down", 0, 1)
		d.Severity = schemas.SeverityInfo
		return d
	}
	shutDets := []schemas.Detection{spineShut(0), fire(1, "leaf1", mOper, "name=e1", "link_down", 0, 1)}
	for name, fault := range map[string][]schemas.Detection{
		"leaf2 first": {fire(30, "leaf2", mOper, "name=e1", "link_down", 0, 1), fire(30, "spine1", mOper, "name=e2", "link_down", 0, 1)},
		"spine first": {fire(30, "spine1", mOper, "name=e2", "link_down", 0, 1), fire(30, "leaf2", mOper, "name=e1", "link_down", 0, 1)},
		"leaf2 alone": {fire(30, "leaf2", mOper, "name=e1", "link_down", 0, 1)},
	} {
		incs := run(t, fabricInventory(), append(append([]schemas.Detection{}, shutDets...), fault...)...)
		var planned, link int
		for _, in := range incs {
			switch {
			case in.Severity == schemas.SeverityInfo && strings.Contains(in.Cause, "interface spine1:e1 shut by configuration"):
				planned++
			case in.Severity == schemas.SeverityCritical && strings.Contains(in.Cause, "spine1:e2 — leaf2:e1 down") && !strings.Contains(in.Cause, "leaf1"):
				link++
			}
		}
		if len(incs) != 2 || planned != 1 || link != 1 {
			t.Errorf("%s: incidents\n%s\nwant the shut (info) and link spine1:e2 — leaf2:e1 down (critical)", name, strings.Join(orderCauses(incs), "\n"))
		}
	}
}
