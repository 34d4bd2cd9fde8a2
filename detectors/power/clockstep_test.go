package power

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestStepBack: a device whose samples ran 3 h ahead, taken back to the
// right time (StepBack), finishes ticks and closes windows from there,
// its byte counter's rate starts again (the first sample after the step
// is its baseline; none spans the step), its PSU reading ages from the
// step, and the open window stamped ahead goes unwritten; one sample stamped a year ahead, taken back, costs only
// its own tick: the window it came in keeps its ticks before it and is
// written. Before, there was no way back: no tick of the device finished
// until its time passed the latest sample's.
func TestStepBack(t *testing.T) {
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	tick := func(e *Estimator, ts int64, octets uint64) {
		e.Observe(ts, "d", schemas.MetricPortSpeed, "name=Ethernet1", schemas.KindState, 0, 0, "SPEED_10GB")
		e.Observe(ts, "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "UP")
		e.Observe(ts, "d", schemas.MetricInOctets, "name=Ethernet1", schemas.KindCounter, octets, 0, "")
		e.Observe(ts, "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 100, "")
	}
	const perMin = 60e6 // octets a minute: 1 MB/s
	t.Run("3 h ahead", func(t *testing.T) {
		e, _ := New(Config{})
		for m := range 20 {
			tick(e, at(3*time.Hour+time.Duration(m)*time.Minute), uint64(m)*perMin)
		}
		e.Take()
		e.StepBack("d", at(20*time.Minute))
		d := e.devices["d"]
		if d.cur != 0 || d.winEnd != 0 || d.ports[0].in.LastTS != 0 || d.psus[0].pSeen != at(20*time.Minute) {
			t.Fatalf("after the step: tick %d, window end %d, counter at %d, PSU received at %d; want none, none, none, the step", d.cur, d.winEnd, d.ports[0].in.LastTS, d.psus[0].pSeen)
		}
		for m := 20; m < 50; m++ {
			tick(e, at(time.Duration(m)*time.Minute), uint64(m)*perMin)
		}
		rows := e.Take().Rows
		if len(rows) == 0 || rows[0].WindowStart != at(15*time.Minute) || rows[0].Samples != 10 {
			t.Fatalf("rows after the step: %+v; want first the window from 00:15 with the 10 ticks from the step (the one open 3 h ahead goes unwritten)", rows)
		}
		if r := d.ports[0].inR; r != 1e6 {
			t.Errorf("rate after the step %v octets/s, want 1e6", r)
		}
	})
	t.Run("one sample a year ahead", func(t *testing.T) {
		e, _ := New(Config{})
		for m := range 10 {
			tick(e, at(time.Duration(m)*time.Minute), uint64(m)*perMin)
		}
		e.Observe(at(365*24*time.Hour), "d", schemas.MetricInOctets, "name=Ethernet1", schemas.KindCounter, 10*perMin, 0, "")
		e.StepBack("d", at(11*time.Minute))
		for m := 11; m < 17; m++ {
			tick(e, at(time.Duration(m)*time.Minute), uint64(m)*perMin)
		}
		rows := e.Take().Rows
		if len(rows) == 0 || rows[0].WindowStart != at(0) || rows[0].Samples != 14 {
			t.Fatalf("rows: %+v; want the window from 00:00 with its 14 measured ticks (none of the sample ahead)", rows)
		}
	})
}
