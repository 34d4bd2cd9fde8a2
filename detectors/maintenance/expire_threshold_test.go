package maintenance

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestThresholdOnlySeriesExpires: a device that reports an optic's alarm
// thresholds but never its reading (an optic without DOM readings, or a
// reading the collector does not subscribe to), then goes silent, must not
// keep its series for ever: like any series it is forgotten, with a
// tombstone, after ten times Config.Stale. Before, a series without a
// reading had no latest sample time and Expire skipped it, so such series
// of decommissioned devices accumulated without bound (memory and
// changelog).
func TestThresholdOnlySeriesExpires(t *testing.T) {
	tr, _ := New(Config{})
	for _, sev := range []string{"WARNING", "CRITICAL"} {
		tr.Observe(t0.UnixNano(), "edge-1", schemas.MetricThresholdInPowerLower, "name=Ethernet1-transceiver,severity="+sev, -9)
		tr.Observe(t0.UnixNano(), "edge-1", schemas.MetricThresholdBiasUpper, "name=Ethernet1-transceiver,severity="+sev, 12)
	}
	if tr.Series() != 2 {
		t.Fatalf("%d series", tr.Series())
	}
	tr.TakeDirty(func(schemas.SeriesKey) {})
	tr.Expire(t0.Add(100 * 24 * time.Hour).UnixNano())
	gone := 0
	tr.TakeDirty(func(k schemas.SeriesKey) {
		if _, ok := tr.AppendState(nil, k); !ok {
			gone++
		}
	})
	if tr.Series() != 0 || gone != 2 {
		t.Errorf("after 100 silent days: %d series left, %d tombstones; want 0 and 2", tr.Series(), gone)
	}
}
