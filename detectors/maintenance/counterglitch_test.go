package maintenance

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestCounterGlitch: an FCS error counter (from 10^6, 5 errors a minute,
// polled every minute into 2-minute buckets) read once wrong, as 2^32-1,
// its last value plus 2^31, 2^64-1 or 0, and its count again on the next
// poll, gives every bucket a median of 5 errors a minute and is not
// failed; a tracker restored from the record written right after the
// bad read (version 3, with a device threshold's change pending or not)
// goes on as the uninterrupted one, a record whose read pending is not
// before the counter's last sample is refused, and a step back before
// the bad read drops it with the counter's last sample. Before, the high
// reads were a rate of up to 7*10^7 per second, and the poll after a 0
// the whole count over a minute: the bucket's median (the mean of its
// two rates) failed the counter, and its trend was dropped (5 buckets
// of 24 left at the end).
func TestCounterGlitch(t *testing.T) {
	const dev, keys, thrMetric = "edge-1", "name=Ethernet1", "test/fcs-threshold"
	cfg := Config{Bucket: 2 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
		Signals: []Signal{{Name: "fcs_error_rate", Metric: schemas.MetricInFCSErrors, Unit: "1/s", Direction: schemas.DirectionRising,
			Threshold: f64p(1), Counter: true, DeviceThresholdMetric: thrMetric}}}
	k := schemas.SeriesKey{Device: dev, Metric: schemas.MetricInFCSErrors, Keys: keys}
	const bad, end = 45, 60
	for _, tc := range []struct {
		name string
		read func(last uint64) uint64
	}{
		{"2^32-1", func(uint64) uint64 { return 1<<32 - 1 }},
		{"2^31 above", func(last uint64) uint64 { return last + 1<<31 }},
		{"2^64-1", func(uint64) uint64 { return math.MaxUint64 }},
		{"0", func(uint64) uint64 { return 0 }},
	} {
		for _, pendingThr := range []bool{false, true} {
			feed := func(tr *Tracker, from, to int) {
				for i := from; i < to; i++ {
					ts := t0.Add(time.Duration(i) * time.Minute).UnixNano()
					if i < bad || i == bad && pendingThr {
						thr := 1.0
						if i == bad {
							thr = 2 // sent once: pending
						}
						tr.Observe(ts, dev, thrMetric, keys+",severity=CRITICAL", thr)
					}
					v := uint64(1e6 + 5*i)
					if i == bad {
						v = tc.read(v - 5)
					}
					tr.ObserveCounter(ts, dev, schemas.MetricInFCSErrors, keys, v)
				}
			}
			whole, _ := New(cfg)
			feed(whole, 0, end)
			s := whole.series[k]
			if s.failedHold || len(s.by) != 24 {
				t.Errorf("%s: failed %v, %d buckets; want healthy, 24", tc.name, s.failedHold, len(s.by))
			}
			for i, y := range s.by {
				if math.Abs(y*60-5) > 1e-9 {
					t.Errorf("%s: bucket %d of %d: %.4g errors a minute, want 5", tc.name, i, len(s.by), y*60)
				}
			}
			before, _ := New(cfg)
			feed(before, 0, bad+1)
			rec, _ := before.AppendState(nil, k)
			if rec[1] != seriesVersionGlitch {
				t.Errorf("%s: record with the read pending: version %d, want %d", tc.name, rec[1], seriesVersionGlitch)
			}
			restored, _ := New(cfg)
			if err := restored.RestoreState(k, rec); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			feed(restored, bad+1, end)
			a, _ := whole.AppendState(nil, k)
			b, _ := restored.AppendState(nil, k)
			if string(a) != string(b) {
				t.Errorf("%s, threshold pending %v: the restored series' record differs from the uninterrupted one's", tc.name, pendingThr)
			}
			if a[1] == seriesVersionGlitch {
				t.Errorf("%s: record after the read was told: version %d", tc.name, a[1])
			}
			before.series[k].ctr.LastTS = before.series[k].glitch.Pending()
			rec, _ = before.AppendState(nil, k)
			if err := restored.RestoreState(k, rec); err == nil || errors.Is(err, ErrIncompatibleState) {
				t.Errorf("%s: a record with the read pending at the counter's last sample: %v, want refused as corrupt", tc.name, err)
			}
			before.StepBack(dev, t0.Add(30*time.Minute).UnixNano())
			if p := before.series[k].glitch.Pending(); p != 0 {
				t.Errorf("%s: after a step back before the bad read, a read pending since %d", tc.name, p)
			}
		}
	}
}
