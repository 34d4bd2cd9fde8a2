package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/app/live"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectionRowNames checks the detections pane's rows of an optic's
// input power (a statistic leaf) and of the power stage's residual on a
// whole device (no keys). Before, the first read "sim-04
// Ethernet4-transceiver instant" and the second "sim-07  input-power",
// with two spaces where the empty keys were.
func TestDetectionRowNames(t *testing.T) {
	at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	s := live.Snapshot{Detections: []live.Detection{
		{Time: at, State: "firing", Device: "sim-04", Metric: schemas.MetricOpticInputPower, Keys: "name=Ethernet4-transceiver", Observed: -2.18, Expected: -2.2},
		{Time: at, State: "firing", Device: "sim-07", Metric: schemas.MetricPSUInPower, Observed: 250, Expected: 200},
	}}
	lines := detectionsPane(s).lines
	if len(lines) != 2 {
		t.Fatalf("%d rows: %q", len(lines), lines)
	}
	if !strings.Contains(lines[0], " sim-04 Ethernet4-transceiver input-power/instant -2.18 vs -2.2 ") {
		t.Errorf("optic row %q, want the metric as input-power/instant", lines[0])
	}
	if !strings.Contains(lines[1], " sim-07 input-power 250 vs 200 ") {
		t.Errorf("device row %q, want one space between device and metric", lines[1])
	}
}
