package power

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// skewRecords is fleetRecords moved by shift, and a device's rows dropped
// from a tick on (stop).
func skewRecords(t testing.TB, ticks int, shift func(dev string, tick int) time.Duration, stop func(dev string, tick int) bool) []*kgo.Record {
	t.Helper()
	return fleetRecords(t, ticks, func(i int, s *schemas.Sample) bool {
		if stop != nil && stop(s.Device, i) {
			return false
		}
		s.TS += int64(shift(s.Device, i))
		return true
	})
}

// fleetRecords is ticks minutes of three simulated devices with power,
// one record a minute, every row's time set on time (the fleet reuses one
// sample), then passed to keep, which may edit it and drops it by
// returning false.
func fleetRecords(t testing.TB, ticks int, keep func(tick int, s *schemas.Sample) bool) []*kgo.Record {
	t.Helper()
	start, _ := time.Parse(time.DateOnly, expiryStart)
	fleet, err := sim.New(sim.Config{Devices: 3, Interfaces: 4, Start: start, Interval: time.Minute, Power: true})
	if err != nil {
		t.Fatal(err)
	}
	return stagetest.FleetTicks(t, fleet, ticks, func(i int, s *schemas.Sample) bool {
		s.TS = start.Add(time.Duration(i) * time.Minute).UnixNano()
		return keep(i, s)
	})
}

// onTime shifts no device.
func onTime(string, int) time.Duration { return 0 }

// TestPowerAheadDeviceExpiresNoLiveDevice: one device of a partition
// whose clock is set two days ahead mid-life is placed on the partition's
// clock, so no device is dropped: each reports every minute. Before, its
// jump moved the partition's sweep clock, and the next sweep dropped the
// state of the two others.
func TestPowerAheadDeviceExpiresNoLiveDevice(t *testing.T) {
	const skewFrom = 30
	recs := skewRecords(t, 60, func(dev string, i int) time.Duration {
		if dev == "sim-00" && i >= skewFrom {
			return 48 * time.Hour // its clock set ahead
		}
		return 0
	}, nil)
	reg := prometheus.NewRegistry()
	p := newExpiryStage(t, Config{DeviceExpiry: expiryAfter}, reg)
	dropped := map[string]int{}
	for i := range recs {
		run(t, p, recs[i:i+1])
		for _, dev := range []string{"sim-01", "sim-02"} {
			if _, ok := dropped[dev]; !ok && p.Estimator(0).DeviceModel(dev) == nil {
				dropped[dev] = i
			}
		}
	}
	if got := expired(t, reg, "power"); got != 0 || len(dropped) != 0 {
		t.Errorf("%v devices expired (dropped after record: %v), want none: every device reported every minute", got, dropped)
	}
}

// TestPowerBehindDeviceWarms: a device first seen 20 years behind the
// partition's clock (an RTC reset) keeps its state and writes its power
// rows as it would on time. Before, every sweep dropped it (20 years
// silent on the partition's clock), so it started fresh every 7.5
// minutes.
func TestPowerBehindDeviceWarms(t *testing.T) {
	const behind = 20 * 365 * 24 * time.Hour
	rows := func(recs []*kgo.Record) (n int, expired float64) {
		reg := prometheus.NewRegistry()
		out, _ := run(t, newExpiryStage(t, Config{DeviceExpiry: expiryAfter}, reg), recs)
		for _, o := range out {
			if strings.HasPrefix(o, `power "sim-01"`) {
				n++
			}
		}
		return n, expiredOf(t, reg)
	}
	want, _ := rows(skewRecords(t, 120, onTime, nil))
	got, exp := rows(skewRecords(t, 120, func(dev string, _ int) time.Duration {
		if dev == "sim-01" {
			return -behind
		}
		return 0
	}, nil))
	if want == 0 || got != want || exp != 0 {
		t.Errorf("sim-01 20 years behind: %d power messages, %v devices expired; want %d, none", got, exp, want)
	}
}

// expiredOf is expired of the power stage, for a test of its own.
func expiredOf(t *testing.T, reg *prometheus.Registry) float64 { return expired(t, reg, "power") }

// TestPowerSkewRestore: a restore at any record of a partition with a
// device 20 years behind from its first sample, one whose clock jumps two
// days ahead at 30, and one that stops at 40 (dropped an hour later, in
// its own time) continues with the same outputs, state and checkpoints as
// the uninterrupted run: the offsets are in the changelog, restored after
// the devices (the keys in order) and the clock read back from both.
func TestPowerSkewRestore(t *testing.T) {
	recs := skewRecords(t, 150, func(dev string, i int) time.Duration {
		switch {
		case dev == "sim-01":
			return -20 * 365 * 24 * time.Hour
		case dev == "sim-00" && i >= 30:
			return 48 * time.Hour
		}
		return 0
	}, func(dev string, i int) bool { return dev == "sim-02" && i >= 40 })
	cfg := Config{DeviceExpiry: expiryAfter}
	reg := prometheus.NewRegistry()
	whole := newExpiryStage(t, cfg, reg)
	run(t, whole, recs)
	if got := expired(t, reg, "power"); got != 1 || whole.Estimator(0).DeviceModel("sim-02") != nil {
		t.Fatalf("%v devices expired, want sim-02", got)
	}
	for cut := 1; cut < len(recs); cut++ {
		if cut%7 != 0 && (cut < 28 || cut > 34) && (cut < 98 || cut > 112) {
			continue // around the jump and the drop; every seventh elsewhere
		}
		a := newExpiryStage(t, cfg, prometheus.NewRegistry())
		log := map[string][]byte{}
		for _, r := range recs[:cut] {
			run(t, a, []*kgo.Record{r})
			maps.Copy(log, checkpoint(a))
		}
		b := newExpiryStage(t, cfg, prometheus.NewRegistry())
		for _, k := range slices.Sorted(maps.Keys(log)) {
			if err := b.Restore(0, []byte(k), log[k]); err != nil {
				t.Fatal(err)
			}
		}
		oa, _ := run(t, a, recs[cut:])
		ob, _ := run(t, b, recs[cut:])
		if !slices.Equal(oa, ob) {
			t.Fatalf("cut %d: %d outputs after the handoff, %d without; first difference at %d", cut, len(ob), len(oa), firstDiff(oa, ob))
		}
		if ca, cb := checkpoint(a), checkpoint(b); !maps.EqualFunc(ca, cb, func(x, y []byte) bool { return string(x) == string(y) }) {
			t.Fatalf("cut %d: the last checkpoints differ: %d and %d records", cut, len(ca), len(cb))
		}
		for _, dev := range []string{"sim-00", "sim-01", "sim-02"} {
			sa, _ := a.Estimator(0).AppendDeviceState(nil, dev)
			sb, _ := b.Estimator(0).AppendDeviceState(nil, dev)
			if string(sa) != string(sb) || a.part(0).devs.Offset(dev) != b.part(0).devs.Offset(dev) {
				t.Fatalf("cut %d: the final state of %s differs", cut, dev)
			}
		}
	}
}

// TestPowerRestoresWithoutOffsets: a changelog written before the offsets
// (none of their records) restores, every device at offset 0, as that
// build had them; an offset record this build cannot decode is a
// one-line error naming the device.
func TestPowerRestoresWithoutOffsets(t *testing.T) {
	recs := skewRecords(t, 60, func(dev string, i int) time.Duration {
		if dev == "sim-00" && i >= 20 {
			return 48 * time.Hour
		}
		return 0
	}, nil)
	cfg := Config{DeviceExpiry: expiryAfter}
	a := newExpiryStage(t, cfg, prometheus.NewRegistry())
	run(t, a, recs[:40])
	log := checkpoint(a)
	if log[powerOffsetKeyPrefix+"sim-00"] == nil {
		t.Fatal("no offset record of sim-00")
	}
	delete(log, powerOffsetKeyPrefix+"sim-00")
	reg := prometheus.NewRegistry()
	b := newExpiryStage(t, cfg, reg)
	for k, v := range log {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if b.Devices() != 3 {
		t.Fatalf("%d devices restored, want 3", b.Devices())
	}
	run(t, b, recs[40:])
	if got := expired(t, reg, "power"); got != 2 {
		// At offset 0, sim-00's restored time two days ahead is the
		// partition's clock, as the build before the offsets had it: the
		// two others expire (once), as they did there.
		t.Errorf("%v devices expired after a restore without offsets, want the 2 of the build before them", got)
	}
	err := newExpiryStage(t, cfg, prometheus.NewRegistry()).Restore(0, []byte(powerOffsetKeyPrefix+"sim-00"), []byte{1})
	if err == nil || err.Error() != "power: clock offset of device sim-00: record of 1 bytes does not decode" {
		t.Errorf("a short offset record: %v", err)
	}
}
