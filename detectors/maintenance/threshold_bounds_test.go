package maintenance

import (
	"math"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestImplausibleDeviceThreshold: a healthy optic (-3 dBm, 6 mA) whose
// device sends its thresholds only when they change (-7 dBm lower rx
// power, 12 mA upper laser bias at minute 0) and once, at minute 45, a
// value no transceiver can have (rx power lower above +20 dBm or at or below
// -40 dBm; laser bias upper at or below 0 mA or above 1000 mA), never
// repeated, keeps its thresholds and is not failed; a record holding
// such a threshold (written by an earlier build) restores without it.
// Before, the value was taken once a bucket closed after it: an rx
// lower of +25 dBm or 1e9, or a bias upper of 0 mA, failed the optic,
// and one of -100 dBm or 1e9 mA left its decay no threshold it could
// ever reach.
func TestImplausibleDeviceThreshold(t *testing.T) {
	const dev, comp = "edge-1", "name=Ethernet1-transceiver"
	cfg := Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
		Signals: DefaultSignals()[:2]}
	rx := schemas.SeriesKey{Device: dev, Metric: schemas.MetricOpticInputPower, Keys: comp}
	bias := schemas.SeriesKey{Device: dev, Metric: schemas.MetricOpticLaserBias, Keys: comp}
	for _, tc := range []struct {
		metric string
		k      schemas.SeriesKey
		v      float64
	}{
		{schemas.MetricThresholdInPowerLower, rx, 25},
		{schemas.MetricThresholdInPowerLower, rx, 1e9},
		{schemas.MetricThresholdInPowerLower, rx, -40},
		{schemas.MetricThresholdInPowerLower, rx, -100},
		{schemas.MetricThresholdInPowerLower, rx, -1e9},
		{schemas.MetricThresholdBiasUpper, bias, 0},
		{schemas.MetricThresholdBiasUpper, bias, -5},
		{schemas.MetricThresholdBiasUpper, bias, 2000},
		{schemas.MetricThresholdBiasUpper, bias, 1e9},
	} {
		tr, _ := New(cfg)
		for i := range 130 {
			ts := t0.Add(time.Duration(i) * time.Minute).UnixNano()
			switch i {
			case 0:
				tr.Observe(ts, dev, schemas.MetricThresholdInPowerLower, comp+",severity=CRITICAL", -7)
				tr.Observe(ts, dev, schemas.MetricThresholdBiasUpper, comp+",severity=CRITICAL", 12)
			case 45:
				tr.Observe(ts, dev, tc.metric, comp+",severity=CRITICAL", tc.v)
			}
			tr.Observe(ts, dev, schemas.MetricOpticInputPower, comp, -3)
			tr.Observe(ts, dev, schemas.MetricOpticLaserBias, comp, 6)
		}
		want := map[schemas.SeriesKey]float64{rx: -7, bias: 12}
		for k, w := range want {
			if s := tr.series[k]; s.devThr != w || s.hasNext || s.failedHold {
				t.Errorf("%s %g: %s threshold %v (pending %v), failed %v; want %v, healthy", tc.metric, tc.v, k.Metric, s.devThr, s.hasNext, s.failedHold, w)
			}
		}
		// A record of an earlier build, which took it.
		s := tr.series[tc.k]
		s.devThr, s.thrNext, s.hasNext = tc.v, tc.v, true
		rec, _ := tr.AppendState(nil, tc.k)
		restored, _ := New(cfg)
		if err := restored.RestoreState(tc.k, rec); err != nil {
			t.Fatal(err)
		}
		if r := restored.series[tc.k]; r.hasThr || r.hasNext {
			t.Errorf("%s %g: restored with threshold %v (%v), pending %v (%v); want none", tc.metric, tc.v, r.devThr, r.hasThr, r.thrNext, r.hasNext)
		}
	}
}

// TestThresholdBoundsEdges: the bounds' edges as the README gives them:
// an rx lower at or below -40 dBm or above +20 dBm, a bias upper at or
// below 0 mA or above 1000 mA, is dropped; a metric without bounds takes
// any finite value.
func TestThresholdBoundsEdges(t *testing.T) {
	for _, tc := range []struct {
		metric string
		v      float64
		want   bool
	}{
		{schemas.MetricThresholdInPowerLower, -60, false},
		{schemas.MetricThresholdInPowerLower, -40, false},
		{schemas.MetricThresholdInPowerLower, -39.99, true},
		{schemas.MetricThresholdInPowerLower, 20, true},
		{schemas.MetricThresholdInPowerLower, 20.01, false},
		{schemas.MetricThresholdBiasUpper, 0, false},
		{schemas.MetricThresholdBiasUpper, 0.001, true},
		{schemas.MetricThresholdBiasUpper, 1000, true},
		{schemas.MetricThresholdBiasUpper, 1000.1, false},
		{schemas.MetricThresholdBiasUpper, math.NaN(), false},
		{"/a/configured/threshold", 1e9, true},
		{"/a/configured/threshold", math.Inf(1), false},
	} {
		if got := plausibleThreshold(tc.metric, tc.v); got != tc.want {
			t.Errorf("plausibleThreshold(%s, %g) = %v, want %v", tc.metric, tc.v, got, tc.want)
		}
	}
}
