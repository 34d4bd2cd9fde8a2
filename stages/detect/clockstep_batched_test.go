package detect

import (
	"bytes"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectClockStepsBackBatched: a device whose clock ran 3 h ahead and
// is set right at tick step, its samples in records of per ticks, has
// stepped back once its samples behind continue into its next record and
// span a minute of its time: its gauge drops the samples from the step to
// that one (blind, ticks), and its link going down at 800 and its byte
// counter's spike at 1000 fire as on time. A tick per record, that is a
// minute (6 ticks); 60 ticks per record (10 minutes), the rest of the
// record the step falls in, or a minute when that is less. A stage
// restored from its changelog after the record where the count began, and
// around it, continues exactly as the one that wrote it (the count's
// record is not in the changelog: a restored count began before any
// record the stage takes), and one on 2 workers writes the same as on 1.
// Before, the step was confirmed inside one record once its samples
// behind spanned a minute, so a second source's batch behind the device's
// was taken for one (TestDetectResentBatchesDropped), and a step was
// blind 6 ticks whatever the records.
func TestDetectClockStepsBackBatched(t *testing.T) {
	const n = 1200
	base := stepRows(n, [2]int{800, 830}, [2]int{1000, 1006})
	for _, c := range []struct {
		name      string
		per, step int
		blind     int   // the gauge's samples dropped at the step
		cuts      []int // records to restore after
	}{
		{"a tick per record", 1, 700, 6, []int{700, 705, 706}},
		{"60 ticks per record, the step early in one", 60, 700, 20, []int{11, 12, 13}},
		{"60 ticks per record, the step late in one", 60, 715, 6, []int{12, 13}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows := func(dev string, i int) []schemas.Sample {
				r := base(dev, i)
				if i < c.step {
					for j := range r {
						r[j].TS += int64(3 * time.Hour)
					}
				}
				return r
			}
			recs := batchedRecords(t, n, c.per, 0, 0, 0, rows)
			d := newTestDetect(t, Config{})
			dets := process(t, d, recs)
			if got := stepFired(dets, stepped, stateevents.MetricOperStatus, "link_down"); !slices.Equal(got, []int{800}) {
				t.Errorf("link_down fired at ticks %v, want 800", got)
			}
			spike := slices.DeleteFunc(stepFired(dets, stepped, schemas.MetricInOctets, ""), func(i int) bool { return i < 900 })
			if len(spike) != 1 || spike[0] < 1000 || spike[0] > 1006 {
				t.Errorf("in-octets fired at ticks %v after 900, want once within 1000..1006", spike)
			}
			st := d.parts[0].series[schemas.SeriesKey{Device: stepped, Metric: "/system/cpu"}]
			if st == nil {
				t.Fatal("the gauge's series is gone")
			}
			if st.points != uint64(n-c.blind) {
				t.Errorf("the gauge scored %d points, want %d: blind %d ticks at the step", st.points, n-c.blind, c.blind)
			}
			for _, at := range c.cuts {
				checkRestored(t, recs, at)
			}
			o1, c1, s1 := runWorkers(t, Config{}, 1, 1, false, recs)
			o2, c2, s2 := runWorkers(t, Config{}, 2, 1, true, recs)
			if !bytes.Equal(o1, o2) || !bytes.Equal(c1, c2) || !maps.EqualFunc(s1, s2, slices.Equal) {
				t.Errorf("2 workers holding outputs differ from 1: outputs %s; changelog %s", firstDiff(o2, o1), firstDiff(c2, c1))
			}
		})
	}
}
