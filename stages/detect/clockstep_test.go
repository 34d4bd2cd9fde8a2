package detect

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// stepped is the device whose clock steps in these tests.
const stepped = "stepped"

// stepRows returns the rows of tick i of a device of n ticks: a gauge, an
// interface's byte counter (about 10 MB/s; five times that at the ticks
// of spike, still while down) and the interface's oper-status, sent every
// tick (an SNMP poll, a gNMI SAMPLE subscription): DOWN at the ticks of
// down, UP at the others.
func stepRows(n int, down, spike [2]int) func(dev string, i int) []schemas.Sample {
	in := func(r [2]int, i int) bool { return i >= r[0] && i < r[1] }
	octets := make([]uint64, n)
	b := uint64(1 << 30)
	for i := range octets {
		inc := 10e6 * (1 + 0.05*skewNoise("octets", i))
		switch {
		case in(down, i):
			inc = 0
		case in(spike, i):
			inc *= 5
		}
		b += uint64(inc)
		octets[i] = b
	}
	return func(dev string, i int) []schemas.Sample {
		oper := "UP"
		if in(down, i) {
			oper = "DOWN"
		}
		return append(skewGauge(dev, i),
			counterSample(schemas.MetricInOctets, iface, octets[i]),
			stateSample(stateevents.MetricOperStatus, iface, oper))
	}
}

// stepFired returns the ticks (10 s from t0) at which detections of
// device fired on metric by detector ("" any), in order.
func stepFired(dets []*schemas.Detection, device, metric, detector string) []int {
	var ticks []int
	for _, det := range dets {
		if det.Device == device && det.Metric == metric && det.State == schemas.StateFiring && (detector == "" || det.Detector == detector) {
			ticks = append(ticks, int(det.EventTime.Sub(t0)/(10*time.Second)))
		}
	}
	return ticks
}

// stepBackRecords are the records of TestDetectClockStepsBack: device
// stepped's clock runs 3 h ahead until tick step, when NTP sets it right;
// its link is down at the ticks of down and its byte counter spikes from
// 1000 to 1006. With alone false an on-time device shares the partition.
func stepBackRecords(t *testing.T, n, step int, alone bool, down [2]int) []*kgo.Record {
	t.Helper()
	devices := []skewDevice{{name: stepped, rows: stepRows(n, down, [2]int{1000, 1006}), shift: func(i int) time.Duration {
		if i < step {
			return 3 * time.Hour
		}
		return 0
	}}}
	if !alone {
		devices = append([]skewDevice{{name: skewOnTime, shift: noShift, rows: skewGauge}}, devices...)
	}
	return skewRecords(t, n, devices...)
}

// TestDetectClockStepsBack: a device whose clock ran 3 h ahead and is set
// right at tick 700 (NTP's first sync) has its link going down at 800
// alerted at its DOWN sample (link_down, resolved at 830), and its byte
// counter's spike at 1000 fired within a minute, alone in its partition
// or beside a device on time; its series are not expired. Before, every
// series of the device ignored the samples older than its latest until
// the device's time passed it again (rate.Stale for the counter, "older
// changes nothing" for the oper-status): neither fired, 3 h blind.
func TestDetectClockStepsBack(t *testing.T) {
	const n = 1400
	for _, c := range []struct {
		name  string
		step  int // the tick the clock is set right at (0: on time throughout, the control)
		alone bool
	}{{"on time", 0, true}, {"alone", 700, true}, {"beside a device on time", 700, false}} {
		t.Run(c.name, func(t *testing.T) {
			d := newTestDetect(t, Config{})
			dets := process(t, d, stepBackRecords(t, n, c.step, c.alone, [2]int{800, 830}))
			var resolved []int
			for _, det := range dets {
				if det.Device == stepped && det.Detector == "link_down" && det.State == schemas.StateResolved {
					resolved = append(resolved, int(det.EventTime.Sub(t0)/(10*time.Second)))
				}
			}
			if got := stepFired(dets, stepped, stateevents.MetricOperStatus, "link_down"); !slices.Equal(got, []int{800}) || !slices.Equal(resolved, []int{830}) {
				t.Errorf("link_down fired at ticks %v, resolved at %v; want 800 and 830", got, resolved)
			}
			spike := slices.DeleteFunc(stepFired(dets, stepped, schemas.MetricInOctets, ""), func(i int) bool { return i < 900 })
			if len(spike) != 1 || spike[0] < 1000 || spike[0] > 1006 {
				t.Errorf("in-octets fired at ticks %v after 900, want once within 1000..1006", spike)
			}
			points := uint64(0)
			if st := d.parts[0].series[schemas.SeriesKey{Device: stepped, Metric: "/system/cpu"}]; st != nil {
				points = st.points
			}
			if points < n-10 {
				t.Errorf("the device's gauge scored %d points, want about %d", points, n)
			}
		})
	}
}

// TestDetectClockOutlierSample: one sample of a device's byte counter
// stamped a year ahead (tick 500, a garbled timestamp) blinds neither
// the device's other series (its link going down at 700 is a link_down)
// nor that counter for long: its spike at 900 fires. Before, the
// counter ignored every later sample, older than that one, for a year
// (or until series_expiry dropped its state, where other devices move
// the partition's clock, and it started cold).
func TestDetectClockOutlierSample(t *testing.T) {
	const n = 1200
	rows := stepRows(n, [2]int{700, 730}, [2]int{900, 906})
	outlier := func(dev string, i int) []schemas.Sample {
		r := rows(dev, i)
		if i == 500 {
			r[1].TS = int64(365 * 24 * time.Hour)
		}
		return r
	}
	for _, c := range []struct {
		name    string
		outlier bool // false: the control, every sample on time
		alone   bool
	}{{"on time", false, true}, {"alone", true, true}, {"beside a device on time", true, false}} {
		t.Run(c.name, func(t *testing.T) {
			devices := []skewDevice{{name: stepped, shift: noShift, rows: rows}}
			if c.outlier {
				devices[0].rows = outlier
			}
			if !c.alone {
				devices = append([]skewDevice{{name: skewOnTime, shift: noShift, rows: skewGauge}}, devices...)
			}
			dets := process(t, newTestDetect(t, Config{}), skewRecords(t, n, devices...))
			if got := stepFired(dets, stepped, stateevents.MetricOperStatus, "link_down"); !slices.Equal(got, []int{700}) {
				t.Errorf("link_down fired at ticks %v, want 700", got)
			}
			spike := slices.DeleteFunc(stepFired(dets, stepped, schemas.MetricInOctets, ""), func(i int) bool { return i < 800 })
			if len(spike) != 1 || spike[0] < 900 || spike[0] > 906 {
				t.Errorf("in-octets fired at ticks %v after 800, want once within 900..906", spike)
			}
		})
	}
}

// resendRecords encodes n ticks 10 s apart of device stepped (stepRows),
// one record per tick; at each tick i of [from, to), a second source's
// record follows with the device's samples of tick i-lag, at their own
// time and values (a collector that resends what another published, or
// publishes late).
func resendRecords(t *testing.T, n, from, to, lag int) []*kgo.Record {
	t.Helper()
	rows := stepRows(n, [2]int{800, 830}, [2]int{1000, 1006})
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var recs []*kgo.Record
	add := func(i int) {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		for _, s := range rows(stepped, i) {
			s.TS, s.Device, s.Source = ts, stepped, schemas.SourceGNMI
			sb.Append(&s)
		}
		recs = append(recs, recordOf(t, sb))
	}
	for i := range n {
		add(i)
		if i >= from && i < to && i >= lag {
			add(i - lag)
		}
	}
	return recs
}

// TestDetectResentSamplesDropped: samples a device already sent, resent
// by a second collector during a target move (session_timeout + 10 s
// behind: 2 ticks with the default 10 s, 6 here), samples published a
// tick late (10 s), and a second source publishing the device's samples
// 15 minutes late, for 10 minutes or for over two hours, while the device
// reports on, are all dropped as they were: the detections and the
// series' states are those of the device's samples alone. Before, every
// sample older than its series' latest was dropped, a device's clock
// stepping back too; these still are, being no step.
func TestDetectResentSamplesDropped(t *testing.T) {
	const n = 1200
	want := newTestDetect(t, Config{})
	wantDets := summary(process(t, want, resendRecords(t, n, 0, 0, 0)))
	for _, c := range []struct {
		name          string
		from, to, lag int
	}{
		{"target move", 400, 410, 6},
		{"late by a tick", 600, 700, 1},
		{"a source 15 minutes late", 820, 880, 90},
		{"a source 15 minutes late for long", 300, 1100, 90},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newTestDetect(t, Config{})
			got := summary(process(t, d, resendRecords(t, n, c.from, c.to, c.lag)))
			if !slices.Equal(got, wantDets) {
				t.Errorf("detections %v, want %v", got, wantDets)
			}
			if !maps.EqualFunc(d.SeriesStates(), want.SeriesStates(), bytes.Equal) {
				t.Errorf("the series' states differ from the device's samples alone")
			}
		})
	}
}

// TestDetectClockStepsBackWhileDown: a device whose clock is set right
// (3 h back, at tick 700) while its link_down fires (down from 690 to
// 720) has the alert resolved, saying so, when the step is taken (706, a
// minute of samples behind later): its oper-status follows the device's
// samples again from there, starting from DOWN (it was, with no alert:
// a link down from its first sample is no news). The counter's spike at
// 1000 fires. A stage restored from its changelog before, during and
// after the count continues exactly as the one that wrote it (the count
// is in the device's record), and one scoring on 2 workers writes the
// same outputs and changelog as on 1. Before, the oper-status dropped the
// samples of the next 3 h: the link coming back at 720 was not seen, and
// the link_down fired on for 3 h.
func TestDetectClockStepsBackWhileDown(t *testing.T) {
	recs := stepBackRecords(t, 1100, 700, true, [2]int{690, 720})
	d := newTestDetect(t, Config{})
	dets := process(t, d, recs)
	var got []string
	for _, det := range dets {
		if det.Device == stepped && det.Detector == "link_down" {
			got = append(got, fmt.Sprintf("%s@%d", det.State, det.EventTime.Sub(t0)/(10*time.Second)))
			if det.State == schemas.StateResolved && !strings.Contains(det.Annotations["description"], "clock of device stepped stepped back by 2h59m50s at 2026-11-01T01:56:40Z") {
				t.Errorf("link_down resolved: %q, want it to say the clock stepped back by 2h59m50s (from its latest sample to the first behind) at tick 700", det.Annotations["description"])
			}
		}
	}
	// Fired at 690 in the device's time then, 3 h (1080 ticks) ahead.
	if want := []string{"firing@1770", "resolved@706"}; !slices.Equal(got, want) {
		t.Errorf("link_down: %v, want %v", got, want)
	}
	spike := slices.DeleteFunc(stepFired(dets, stepped, schemas.MetricInOctets, ""), func(i int) bool { return i < 900 })
	if len(spike) != 1 || spike[0] < 1000 || spike[0] > 1006 {
		t.Errorf("in-octets fired at ticks %v after 900, want once within 1000..1006", spike)
	}
	for _, at := range []int{700, 701, 703, 705, 706, 707, 720} {
		checkRestored(t, recs, at)
	}
	o1, c1, s1 := runWorkers(t, Config{}, 1, 1, false, recs)
	o2, c2, s2 := runWorkers(t, Config{}, 2, 1, true, recs)
	if !bytes.Equal(o1, o2) || !bytes.Equal(c1, c2) || !maps.EqualFunc(s1, s2, slices.Equal) {
		t.Errorf("2 workers holding outputs differ from 1: outputs %s; changelog %s", firstDiff(o2, o1), firstDiff(c2, c1))
	}
}
