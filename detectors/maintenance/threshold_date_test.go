package maintenance

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestThresholdDateIsNoReading: a series dated by its device threshold,
// stamped 20 minutes after its device's readings (a threshold the
// maintain stage takes at its partition's present, while the device's
// clock is that much behind), is dated by its first reading once that
// comes, and a reading far behind the threshold's stamp is not behind
// the series (LastOf): neither counts toward its device's clock stepping
// back. Before, the series kept the threshold's stamp as its latest
// sample's, so the readings of the next 20 minutes were each taken for a
// sample behind it.
func TestThresholdDateIsNoReading(t *testing.T) {
	tr, _ := New(Config{})
	const dev, comp = "edge-1", "name=Ethernet1-transceiver"
	ts := t0.UnixNano()
	tr.Observe(ts+int64(20*time.Minute), dev, schemas.MetricThresholdInPowerLower, comp+",severity=CRITICAL", -12)
	if got := tr.LastOf(dev, schemas.MetricOpticInputPower, comp); got != 0 {
		t.Errorf("before its first reading, LastOf = %v, want 0 (no reading)", time.Unix(0, got).UTC())
	}
	tr.Observe(ts, dev, schemas.MetricOpticInputPower, comp, -3)
	if got := tr.LastOf(dev, schemas.MetricOpticInputPower, comp); got != ts {
		t.Errorf("after its first reading, LastOf = %v, want the reading's %v", time.Unix(0, got).UTC(), time.Unix(0, ts).UTC())
	}
}
