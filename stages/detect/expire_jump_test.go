package detect

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectJumpAheadKeepsSlowSeries: a device with a fast gauge
// (every 10 s) and a slow one (every 10 min, another subscription's
// interval) whose clock is set two days ahead at tick 200. The fast
// gauge's first sample after the jump lowers the device's offset by two
// days; the slow gauge's latest sample, from before the jump, is then
// placed two days back, and the next sweep drops its state though it
// reports on schedule: a device whose clock jumps ahead has its own
// series expired.
func TestDetectJumpAheadKeepsSlowSeries(t *testing.T) {
	const n = 600
	rows := func(dev string, i int) []schemas.Sample {
		r := skewGauge(dev, i)
		if i%60 == 0 {
			r = append(r, schemas.Sample{Kind: schemas.KindGauge, Metric: "/system/slow", F64: 10 + skewNoise(dev, 1000+i)})
		}
		return r
	}
	recs := skewRecords(t, n,
		skewDevice{name: skewOnTime, shift: noShift, rows: skewGauge},
		skewDevice{name: skewAhead, shift: func(i int) time.Duration {
			if i >= 200 {
				return 48 * time.Hour
			}
			return 0
		}, rows: rows})
	d := newTestDetect(t, Config{SeriesExpiry: time.Hour})
	reg := prometheus.NewRegistry()
	d.metrics = pipeline.NewMetrics(reg)
	process(t, d, recs)
	st := d.parts[0].series[schemas.SeriesKey{Device: skewAhead, Metric: "/system/slow"}]
	points := uint64(0)
	if st != nil {
		points = st.points
	}
	if want := uint64(n / 60); points != want {
		t.Errorf("the slow gauge of the device set ahead: %d points held, want %d (%v series expired)", points, want,
			counterValue(t, reg, "telekernel_detect_series_expired_total"))
	}
}
