package detect

import (
	"bytes"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// batchedResendRecords encodes n ticks 10 s apart of device stepped
// (stepRows) as a collector publishes them, per ticks per record; after
// each record whose first tick is in [from, to), a second source's record
// follows with the same number of ticks, lag ticks earlier (the same
// samples, at their own time and values: a collector that resends what
// another published, or publishes late, batching as the first does).
func batchedResendRecords(t *testing.T, n, per, from, to, lag int) []*kgo.Record {
	t.Helper()
	return batchedRecords(t, n, per, from, to, lag, stepRows(n, [2]int{800, 830}, [2]int{1000, 1006}))
}

// batchedRecords is batchedResendRecords of the device's rows (each at
// its tick's time moved by the row's own TS).
func batchedRecords(t *testing.T, n, per, from, to, lag int, rows func(dev string, i int) []schemas.Sample) []*kgo.Record {
	t.Helper()
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var recs []*kgo.Record
	add := func(first, last int) {
		for i := max(first, 0); i < last; i++ {
			ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
			for _, s := range rows(stepped, i) {
				s.TS, s.Device, s.Source = ts+s.TS, stepped, schemas.SourceGNMI
				sb.Append(&s)
			}
		}
		recs = append(recs, recordOf(t, sb))
	}
	for k := 0; k < n; k += per {
		add(k, min(k+per, n))
		if k >= from && k < to {
			add(k-lag, k-lag+per)
		}
	}
	return recs
}

// TestDetectResentBatchesDropped: samples a second source publishes
// while the device reports on, in records of 60 ticks (10 minutes: what a
// collector batches per device at the simulator's 600x, or at max_rows),
// are dropped as when they come a tick per record: the detections and the
// series' states are those of the device's samples alone. Before, the
// samples behind of one record spanned more than StepConfirm of the
// device's time with no newer sample of the device between them (none
// can come inside one record), so a source 15 minutes late, or a target
// move's duplicates a little over 10 minutes behind the batch's latest,
// were taken for the device's clock stepping back: its series were taken
// back and followed the late source, its alerts resolved ("the clock of
// device stepped stepped back"), a link_down and a cusum fired twice.
func TestDetectResentBatchesDropped(t *testing.T) {
	const n = 1200
	for _, c := range []struct {
		name               string
		per, from, to, lag int
	}{
		{"target move, a minute behind", 60, 360, 480, 6},
		{"target move, a minute behind, 75 ticks a record", 75, 375, 525, 6},
		{"target move, 80 s behind", 60, 360, 480, 8},
		{"a source 15 minutes late", 60, 780, 900, 90},
		{"a source 15 minutes late for long", 60, 300, 1100, 90},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := newTestDetect(t, Config{})
			wantDets := summary(process(t, want, batchedResendRecords(t, n, c.per, 0, 0, 0)))
			d := newTestDetect(t, Config{})
			got := summary(process(t, d, batchedResendRecords(t, n, c.per, c.from, c.to, c.lag)))
			if !slices.Equal(got, wantDets) {
				t.Errorf("detections %v, want %v", got, wantDets)
			}
			if !maps.EqualFunc(d.SeriesStates(), want.SeriesStates(), bytes.Equal) {
				t.Errorf("the series' states differ from the device's samples alone")
			}
		})
	}
}

// TestDetectSlowSeriesResentDropped: a device with a 10 s counter and
// state and a PSU gauge read every 10 minutes (its stamps 5 s early or
// late in turn, so every other gap is a little over 10 minutes), whose
// samples a second collector resends a minute behind during a target move,
// a tick per record or 60 ticks per record, whatever the PSU's phase,
// gives the detections and states of its samples alone: the PSU's resent
// samples a little over 10 minutes behind its latest count toward a step,
// but the counter's newer samples start the count again. Before, the
// count needed no later record, and this held too: a guard, not a defect
// fixed.
func TestDetectSlowSeriesResentDropped(t *testing.T) {
	const n = 1200
	base := stepRows(n, [2]int{800, 830}, [2]int{1000, 1006})
	for _, per := range []int{1, 60} {
		for phase := 0; phase < 60; phase += 5 {
			rows := func(dev string, i int) []schemas.Sample {
				r := base(dev, i)
				if i%60 == phase {
					jitter := 5 * time.Second
					if i/60%2 == 1 {
						jitter = -jitter
					}
					r = append(r, schemas.Sample{Kind: schemas.KindGauge, Metric: "/components/component/power-supply/state/input-power",
						Keys: "name=PSU1", F64: 200 + skewNoise("psu", i), TS: int64(jitter)})
				}
				return r
			}
			want := newTestDetect(t, Config{})
			wantDets := summary(process(t, want, batchedRecords(t, n, per, 0, 0, 0, rows)))
			d := newTestDetect(t, Config{})
			got := summary(process(t, d, batchedRecords(t, n, per, 300, 420, 6, rows)))
			if !slices.Equal(got, wantDets) || !maps.EqualFunc(d.SeriesStates(), want.SeriesStates(), bytes.Equal) {
				t.Errorf("%d ticks a record, PSU at tick %d of 60: detections %v (want %v), or the states differ", per, phase, got, wantDets)
			}
		}
	}
}
