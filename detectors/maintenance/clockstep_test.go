package maintenance

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestStepBack: a series whose samples ran 37 minutes ahead, taken back
// to the right time (StepBack), keeps its baseline and drops the buckets that
// end after the step (the open one too), takes the samples from the step
// on into new buckets, and holds no reading's time (LastOf, Latest) until
// they come, then theirs (its time, for Expire, is the step's); a series of the device sampled before the step
// only, and another device's, are left alone. A counter's rate starts
// again. Before, there was no way back: every sample older than the open
// bucket was ignored until the device's time passed it.
func TestStepBack(t *testing.T) {
	tr, _ := New(Config{Bucket: 5 * time.Minute, Baseline: 6, MinBuckets: 6, MinFit: 6, Window: 24, Season: 15 * time.Minute})
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	const rx, bias, fcs = schemas.MetricOpticInputPower, schemas.MetricOpticLaserBias, schemas.MetricInFCSErrors
	key := func(dev, metric string) schemas.SeriesKey {
		keys := "name=Ethernet1-transceiver"
		if metric == fcs {
			keys = "name=Ethernet1"
		}
		return schemas.SeriesKey{Device: dev, Metric: metric, Keys: keys}
	}
	for m := range 60 {
		for _, dev := range []string{"d", "other"} {
			tr.Observe(at(3*time.Hour+time.Duration(m)*time.Minute), dev, rx, key(dev, rx).Keys, -3)
			tr.ObserveCounter(at(3*time.Hour+time.Duration(m)*time.Minute), dev, fcs, key(dev, fcs).Keys, uint64(m))
		}
		if m < 10 {
			tr.Observe(at(time.Duration(m)*time.Minute), "d", bias, key("d", bias).Keys, 6) // before the step only
		}
	}
	s := tr.series[key("d", rx)]
	if len(s.bt) != 11 || !s.hasBase {
		t.Fatalf("%d buckets, baseline %v; want 11 and learned", len(s.bt), s.hasBase)
	}
	biasBefore := len(tr.series[key("d", bias)].bt)
	step := at(3*time.Hour + 22*time.Minute)
	tr.StepBack("d", step)
	if len(s.bt) != 4 || s.bStart != 0 || len(s.vals) != 0 || !s.hasBase || s.lastTS != step || tr.LastOf("d", rx, key("d", rx).Keys) != 0 {
		t.Errorf("after the step: %d buckets, open bucket at %d with %d values, baseline %v, time %d, latest reading %d; want the 4 that end by 3:20, none open, learned, the step, none",
			len(s.bt), s.bStart, len(s.vals), s.hasBase, s.lastTS, tr.LastOf("d", rx, key("d", rx).Keys))
	}
	if c := tr.series[key("d", fcs)]; c.ctr.LastTS != 0 {
		t.Errorf("the counter's last sample at %d after the step, want none", c.ctr.LastTS)
	}
	if n := len(tr.series[key("d", bias)].bt); n != biasBefore || len(tr.series[key("other", rx)].bt) != 11 {
		t.Errorf("series sampled before the step, or of another device, changed: %d and %d buckets", n, len(tr.series[key("other", rx)].bt))
	}
	for m := 22; m < 40; m++ {
		tr.Observe(at(3*time.Hour+time.Duration(m)*time.Minute), "d", rx, key("d", rx).Keys, -3)
	}
	if len(s.bt) != 7 || tr.Latest("d") != at(3*time.Hour+39*time.Minute) {
		t.Errorf("after the samples from the step on: %d buckets, latest %d; want 7, the last sample's", len(s.bt), tr.Latest("d"))
	}
}
