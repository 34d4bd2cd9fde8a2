package maintenance

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestExpireOrder: cases that go stale at one Expire close in series order,
// and their changelog keys come in that order too, so the events and the
// changelog do not depend on map iteration (a restored owner must write
// the same bytes in the same order).
func TestExpireOrder(t *testing.T) {
	tr, _ := New(Config{})
	var devs []string
	for i := range 16 {
		devs = append(devs, fmt.Sprintf("edge-%02d", i))
	}
	for m := 0; m < 60*60; m += 10 {
		h := float64(m) / 60
		for _, d := range devs {
			tr.Observe(t0.Add(time.Duration(m)*time.Minute).UnixNano(), d, schemas.MetricOpticInputPower, "name=Ethernet1-transceiver",
				-3-0.05*math.Max(h-30, 0)-0.000001*h)
		}
	}
	tr.Take()
	tr.TakeDirty(func(schemas.SeriesKey) {})
	if tr.Open() != len(devs) {
		t.Fatalf("%d cases open, want %d", tr.Open(), len(devs))
	}
	tr.Expire(t0.Add(80 * time.Hour).UnixNano())
	var got []string
	for _, e := range tr.Take() {
		got = append(got, e.Device)
	}
	if !slices.Equal(got, devs) {
		t.Errorf("stale closes in order %v, want %v", got, devs)
	}
	var keys []string
	tr.TakeDirty(func(k schemas.SeriesKey) { keys = append(keys, k.Device) })
	if !slices.Equal(keys, devs) {
		t.Errorf("changelog keys in order %v, want %v", keys, devs)
	}
}

// TestExpireForgetsReadings: the covariate and PSU readings of a device
// whose series all went silent are forgotten with them, and reported so the
// stage writes a tombstone for the device record; otherwise every device
// ever seen stays in memory and in the changelog.
func TestExpireForgetsReadings(t *testing.T) {
	tr, _ := New(Config{})
	ts := t0.UnixNano()
	tr.Observe(ts, "gone", schemas.MetricTemperature, "name=Ethernet1-transceiver", 41.5)
	tr.Observe(ts, "gone", schemas.MetricPSUInPower, "name=PSU1", 210)
	tr.TakeDirtyDevices(func(string) {})
	tr.Expire(t0.Add(200 * time.Hour).UnixNano())
	if _, ok := tr.AppendDeviceState(nil, "gone"); ok {
		t.Errorf("readings of a device silent for 200 h are still held (%d covariates, %d PSUs)", len(tr.covs), len(tr.psus))
	}
	var dirty []string
	tr.TakeDirtyDevices(func(d string) { dirty = append(dirty, d) })
	if !slices.Equal(dirty, []string{"gone"}) {
		t.Errorf("devices reported for a tombstone: %v, want [gone]", dirty)
	}
}

// TestLateReadings: a covariate or PSU reading older than the one held (a
// late or re-ordered sample) does not replace it, and a late sample of a
// series does not move its last-seen time back.
func TestLateReadings(t *testing.T) {
	tr, _ := New(Config{})
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	temp := schemas.SeriesKey{Device: "d1", Metric: schemas.MetricTemperature, Keys: "name=Ethernet1-transceiver"}
	tr.Observe(at(10), "d1", temp.Metric, temp.Keys, 50)
	tr.Observe(at(5), "d1", temp.Metric, temp.Keys, 40)
	if c := tr.covs[temp]; c.v != 50 || c.ts != at(10) {
		t.Errorf("temperature %v at %v after a late 40, want 50 at minute 10", c.v, time.Unix(0, c.ts).UTC())
	}
	psu := schemas.SeriesKey{Device: "d1", Keys: "name=PSU1"}
	tr.Observe(at(10), "d1", schemas.MetricPSUInPower, psu.Keys, 210)
	tr.Observe(at(5), "d1", schemas.MetricPSUInPower, psu.Keys, 190)
	if p := tr.psus[psu]; p.p != 210 || p.pTS != at(10) {
		t.Errorf("PSU input %v W at %v after a late 190, want 210 at minute 10", p.p, time.Unix(0, p.pTS).UTC())
	}
	rx := schemas.SeriesKey{Device: "d1", Metric: schemas.MetricOpticInputPower, Keys: "name=Ethernet1-transceiver"}
	tr.Observe(at(50), "d1", rx.Metric, rx.Keys, -3)
	tr.Observe(at(20), "d1", rx.Metric, rx.Keys, -3)
	if s := tr.series[rx]; s.lastTS != at(50) {
		t.Errorf("last seen %v after a late sample, want minute 50", time.Unix(0, s.lastTS).UTC())
	}
}
