package incidents

import (
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestSkewedClockBehindKeepsFlappingLink: a link of a device whose clock
// runs an hour behind (its event times an hour before its detections'
// DetectedAt and every other device's event times) that flaps every two
// minutes, while other devices send detections, is one incident, as it is
// with a right clock: each flap comes within Reopen of the last in the
// device's own time. Before, the other devices' detections, an hour
// ahead of its resolution, made the engine forget the link's incident at
// once, and each flap opened a new one.
func TestSkewedClockBehindKeepsFlappingLink(t *testing.T) {
	behind := func(d schemas.Detection) schemas.Detection {
		d.DetectedAt = d.EventTime.Add(time.Hour)
		return d
	}
	var dets []schemas.Detection
	for c := range 5 {
		dets = append(dets,
			fire(3600+c*120, "leaf1", mTemp, "name=Inlet", "robust_z", 40, 30),
			behind(fire(c*120, "spine1", mOper, "name=e3", "link_down", 0, 1)),
			behind(det(c*120+30, schemas.StateResolved, "spine1", mOper, "name=e3", "link_down", 1, 1)))
	}
	var links []*schemas.Incident
	for _, in := range run(t, testInventory(), dets...) {
		if in.Rule == schemas.RuleLink {
			links = append(links, in)
		}
	}
	if len(links) != 1 || len(links[0].Evidence) != 10 || links[0].State != schemas.IncidentResolved {
		t.Errorf("a link flapping 5 times on a device an hour behind: %d link incidents, want 1, resolved, with 10 evidence:\n%s",
			len(links), strings.Join(signature(links), "\n"))
	}
}
