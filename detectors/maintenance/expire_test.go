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
