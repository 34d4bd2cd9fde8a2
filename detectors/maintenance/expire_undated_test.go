package maintenance

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/schemas"
)

// TestExpireUndatedSeries: a series that never held a reading is dated by
// the samples it did get and forgotten 10 × stale after the last, its
// device with it, with a tombstone reported where it was checkpointed:
// an FCS error counter sampled once, or only reset; one sampled once and
// then taken back by its device's clock stepping back before the sample
// (or restored with no time, as an earlier build's StepBack left it); a
// laser bias whose one reading is NaN, and a PSU whose output power is
// NaN (no reading the tracker keeps: no series at all). Before,
// ExpireEach skipped a series whose time was 0 (no rate, its counter's
// sample time zeroed by StepBack, or a series made for a dropped value),
// so each was held, and its device known, for ever.
func TestExpireUndatedSeries(t *testing.T) {
	at := func(m int) int64 { return t0.Add(time.Duration(m) * time.Minute).UnixNano() }
	const dev, port, opt, psu = "gone", "name=Ethernet1", "name=Ethernet1-transceiver", "name=PSU1"
	for _, c := range []struct {
		name  string
		feed  func(tr *Tracker)
		dirty bool // its key is reported (checkpointed) after the feed
	}{
		{"counter sampled once", func(tr *Tracker) { tr.ObserveCounter(at(0), dev, schemas.MetricInFCSErrors, port, 7) }, true},
		{"counter only reset", func(tr *Tracker) {
			for i, v := range []uint64{30, 20, 10} {
				tr.ObserveCounter(at(i), dev, schemas.MetricInFCSErrors, port, v)
			}
		}, true},
		{"counter sampled once, then its clock stepped back", func(tr *Tracker) {
			tr.ObserveCounter(at(60), dev, schemas.MetricInFCSErrors, port, 7)
			tr.StepBack(dev, at(0))
		}, true},
		{"counter's only sample taken by StepBack, restored from an earlier build", func(tr *Tracker) {
			tr.ObserveCounter(at(0), dev, schemas.MetricInFCSErrors, port, 7)
			k := schemas.SeriesKey{Device: dev, Metric: schemas.MetricInFCSErrors, Keys: port}
			tr.series[k].ctr = rate.Counter{} // as its StepBack left it, with no time
			st, _ := tr.AppendState(nil, k)
			if err := tr.RestoreState(k, st); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"NaN laser bias", func(tr *Tracker) { tr.Observe(at(0), dev, schemas.MetricOpticLaserBias, opt, math.NaN()) }, false},
		{"NaN PSU output power", func(tr *Tracker) {
			tr.Observe(at(0), dev, schemas.MetricPSUInPower, psu, 200)
			tr.Observe(at(0), dev, schemas.MetricPSUOutPower, psu, math.NaN())
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, _ := New(Config{})
			c.feed(tr)
			var dirty []schemas.SeriesKey
			tr.TakeDirty(func(k schemas.SeriesKey) { dirty = append(dirty, k) })
			if got := len(dirty) != 0; got != c.dirty {
				t.Errorf("keys to checkpoint after the feed: %v, want some: %v", dirty, c.dirty)
			}
			tr.Expire(at(0) + 11*int64(tr.Config().Stale))
			if tr.Series() != 0 || tr.keysOf(dev) != nil {
				t.Errorf("10 × stale after its last sample the tracker holds %v (device known: %v), want nothing", tr.Keys(), tr.keysOf(dev) != nil)
			}
			var gone []schemas.SeriesKey
			tr.TakeDirty(func(k schemas.SeriesKey) { gone = append(gone, k) })
			if c.dirty && !slices.Equal(gone, dirty) {
				t.Errorf("tombstones reported: %v, want %v", gone, dirty)
			}
		})
	}
}
