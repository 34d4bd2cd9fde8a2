package maintenance

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestThresholdGlitch: a healthy optic whose device sends its lower rx
// power threshold (-7 dBm) every minute, once garbled to the upper's
// (+3 dBm) at a bucket's first reading, is not failed; a new threshold
// sent once (as by a device that sends thresholds only when they change)
// is taken once a bucket closes after it. Before, the garbled threshold
// was in force when the bucket closed, and the optic, reading -3 dBm, was
// failed.
func TestThresholdGlitch(t *testing.T) {
	const dev, comp = "edge-1", "name=Ethernet1-transceiver"
	tr, _ := New(Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
		Signals: DefaultSignals()[:1]})
	k := schemas.SeriesKey{Device: dev, Metric: schemas.MetricOpticInputPower, Keys: comp}
	thr := func(i int) float64 {
		switch {
		case i == 45:
			return 3 // garbled once
		case i >= 100:
			return -2.5 // the device's new threshold, sent once at minute 100
		}
		return -7
	}
	for i := range 130 {
		ts := t0.Add(time.Duration(i) * time.Minute).UnixNano()
		if i <= 100 {
			tr.Observe(ts, dev, schemas.MetricThresholdInPowerLower, comp+",severity=CRITICAL", thr(i))
		}
		tr.Observe(ts, dev, schemas.MetricOpticInputPower, comp, -3)
		if i < 100 && tr.series[k] != nil && tr.series[k].failedHold {
			t.Fatalf("minute %d: the optic was failed by one garbled threshold", i)
		}
	}
	if s := tr.series[k]; s.devThr != -2.5 || !s.failedHold {
		t.Errorf("threshold %v (failed %v), want the new -2.5 in force, and the optic at -3 dBm failed by it", s.devThr, s.failedHold)
	}
}

// TestThresholdPendingRestored: a tracker restored from the changelog
// while a device's new threshold (sent once) is pending takes it when the
// next bucket closes, as the tracker that wrote the record does, and a
// record without one pending is still version 1. Before, the pending
// threshold was not in the record: the restored tracker never took it,
// and its optic, failed by the new threshold in the uninterrupted run,
// stayed healthy.
func TestThresholdPendingRestored(t *testing.T) {
	const dev, comp = "edge-1", "name=Ethernet1-transceiver"
	cfg := Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
		Signals: DefaultSignals()[:1]}
	k := schemas.SeriesKey{Device: dev, Metric: schemas.MetricOpticInputPower, Keys: comp}
	feed := func(tr *Tracker, from, to int) {
		for i := from; i < to; i++ {
			ts := t0.Add(time.Duration(i) * time.Minute).UnixNano()
			switch {
			case i < 100:
				tr.Observe(ts, dev, schemas.MetricThresholdInPowerLower, comp+",severity=CRITICAL", -7)
			case i == 100:
				tr.Observe(ts, dev, schemas.MetricThresholdInPowerLower, comp+",severity=CRITICAL", -2.5) // sent once
			}
			tr.Observe(ts, dev, schemas.MetricOpticInputPower, comp, -3)
		}
	}
	whole, _ := New(cfg)
	feed(whole, 0, 130)
	before, _ := New(cfg)
	feed(before, 0, 101)
	rec, ok := before.AppendState(nil, k)
	if !ok {
		t.Fatal("the tracker holds no series")
	}
	if rec[1] != seriesVersionPending {
		t.Errorf("record of the series with a threshold pending: version %d, want %d", rec[1], seriesVersionPending)
	}
	if calm, _ := whole.AppendState(nil, k); calm[1] != seriesVersion {
		t.Errorf("record with nothing pending: version %d, want %d", calm[1], seriesVersion)
	}
	restored, _ := New(cfg)
	if err := restored.RestoreState(k, rec); err != nil {
		t.Fatal(err)
	}
	feed(restored, 101, 130)
	w, r := whole.series[k], restored.series[k]
	if r.devThr != w.devThr || r.failedHold != w.failedHold || w.devThr != -2.5 {
		t.Errorf("restored: threshold %v, failed %v; uninterrupted: %v, %v (want -2.5, failed)", r.devThr, r.failedHold, w.devThr, w.failedHold)
	}
	a, _ := whole.AppendState(nil, k)
	b, _ := restored.AppendState(nil, k)
	if string(a) != string(b) {
		t.Errorf("the restored series' record differs from the uninterrupted one's")
	}
}
