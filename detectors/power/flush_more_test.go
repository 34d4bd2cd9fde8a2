package power

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestFlushThenMoreSamples: a partition that goes idle is flushed (Flush's
// doc: "when a partition is idle"), then its device reports again. Every
// window must be written once, and each tick counted once. Before, the
// tick Flush had finished was finished again by the next sample: it was
// fitted twice and reopened the window Flush had closed, which was then
// written a second time with one sample.
func TestFlushThenMoreSamples(t *testing.T) {
	e, _ := New(Config{})
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	tick := func(min int) {
		e.Observe(at(min), "d", schemas.MetricPortSpeed, "name=Ethernet1", schemas.KindState, 0, 0, "SPEED_100GB")
		e.Observe(at(min), "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "UP")
		e.Observe(at(min), "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 115, "")
	}
	for m := 0; m <= 10; m++ {
		tick(m)
	}
	e.Flush(at(15)) // idle: the window [0, 15) closes
	points := e.DeviceModel("d").Points()
	if points != 11 {
		t.Fatalf("fitted on %d points after 11 ticks", points)
	}
	for m := 16; m <= 40; m++ {
		tick(m)
	}
	if got := e.DeviceModel("d").Points(); got != points+24 {
		t.Errorf("fitted on %d points after 24 more finished ticks, want %d", got, points+24)
	}
	windows := map[int64]int{}
	for _, r := range e.Take().Rows {
		if r.Row == schemas.PowerRowDevice {
			windows[r.WindowStart]++
			if windows[r.WindowStart] > 1 {
				t.Errorf("window %v written again (%d samples)", time.Unix(0, r.WindowStart).UTC(), r.Samples)
			}
		}
	}
}
