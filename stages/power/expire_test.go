package power

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// expiryTicks are the ticks (one a minute from 2026-11-01) at which the
// devices of expiryRecords stop and come back.
const (
	quietStops  = 10 * 60      // sim-02 reports ticks [0, 600), then stops for good
	firingStops = 21 * 60      // sim-00 reports ticks [0, 1260) and from firingBack
	firingBack  = 23 * 60      //
	expiryTicks = 23*60 + 30   // records
	expiryTick  = time.Minute  // the fleet's interval
	expiryAfter = time.Hour    // power.device_expiry in the tests
	sweepTicks  = 60 / 8       // ticks between two sweeps of a 1h expiry
	expiryStart = "2026-11-01" // the fleet's start (UTC)
)

// expiryRecords is 23 h 30 m of three simulated devices with power, one
// record a minute: sim-01 reports throughout; sim-02 stops after 10 h;
// sim-00's PSU degrades from 20 h (its residual fires) and it stops at
// 21 h, while firing, and reports again from 23 h.
func expiryRecords(t testing.TB) []*kgo.Record {
	t.Helper()
	start, _ := time.Parse(time.DateOnly, expiryStart)
	fleet, err := sim.New(sim.Config{Devices: 3, Interfaces: 8, Start: start, Interval: expiryTick, Power: true,
		Faults: []sim.Fault{{Device: "sim-00", Component: "PSU2", Kind: sim.FaultPSUDegradation, After: 20 * time.Hour, Duration: 4 * time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	return stagetest.FleetTicks(t, fleet, expiryTicks, func(i int, s *schemas.Sample) bool {
		switch {
		case s.Device == "sim-02" && i >= quietStops:
		case s.Device == "sim-00" && i >= firingStops && i < firingBack:
		default:
			return true
		}
		return false
	})
}

// newExpiryStage returns a power stage with cfg and a fixed detection
// clock, counting into reg.
func newExpiryStage(t testing.TB, cfg Config, reg *prometheus.Registry) *Stage {
	t.Helper()
	p, err := New(cfg, "power", "detections", pipeline.NewMetrics(reg), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p.det.Now = func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }
	return p
}

// run processes recs and returns the outputs (topic, key, value, one a
// line) and the detections among them.
func run(t testing.TB, p *Stage, recs []*kgo.Record) (out []string, dets []*schemas.Detection) {
	t.Helper()
	for _, r := range recs {
		err := p.Process(context.Background(), r, func(o *kgo.Record) {
			out = append(out, fmt.Sprintf("%s %q %x", o.Topic, o.Key, o.Value))
			if o.Topic == "detections" {
				d, err := schemas.DecodeDetection(kafka.Headers(o), o.Value)
				if err != nil {
					t.Fatal(err)
				}
				dets = append(dets, d)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out, dets
}

// checkpoint returns the records of p's next checkpoint, by key (a
// tombstone's value is nil).
func checkpoint(p *Stage) map[string][]byte {
	m := map[string][]byte{}
	p.Checkpoint(func(_ int32, k, v []byte) { m[string(k)] = v })
	return m
}

// deviceKey is the changelog key of a device's state.
func deviceKey(dev string) string { return powerDeviceKeyPrefix + dev }

// TestPowerDeviceExpiry: a device without a sample for
// power.device_expiry (event time) is dropped at the next sweep, at most
// an eighth of device_expiry late: its state goes, the next checkpoint
// writes its tombstone, the drop is counted, and it starts fresh when it
// reports again. A device whose residual alert fires when it stops gets
// the resolved detection (the firing one's fingerprint, at its last
// sample + device_expiry, saying why) before it goes. Before, every device
// ever seen stayed in memory and in the changelog, and a firing alert of
// a device that stopped never resolved.
func TestPowerDeviceExpiry(t *testing.T) {
	recs := expiryRecords(t)
	reg := prometheus.NewRegistry()
	p := newExpiryStage(t, Config{DeviceExpiry: expiryAfter}, reg)
	changelog := map[string][]byte{} // compacted: a tombstone deletes
	dropped := map[string]int{}      // the record after which a device was dropped
	var dets []*schemas.Detection
	for i, r := range recs[:firingBack] {
		_, d := run(t, p, []*kgo.Record{r})
		dets = append(dets, d...)
		cp := checkpoint(p)
		for k, v := range cp {
			if v == nil {
				delete(changelog, k)
			} else {
				changelog[k] = v
			}
		}
		for _, dev := range []string{"sim-00", "sim-02"} {
			if _, ok := dropped[dev]; ok || p.Estimator(0).DeviceModel(dev) != nil {
				continue
			}
			dropped[dev] = i
			if v, ok := cp[deviceKey(dev)]; !ok || v != nil {
				t.Errorf("record %d: the checkpoint after %s's drop holds %x (present %v), want a tombstone", i, dev, v, ok)
			}
		}
	}
	// A device's last sample is at tick stops-1; it may go once the
	// partition's newest sample is an hour past it and at a sweep
	// boundary, 7.5 minutes apart.
	for dev, stops := range map[string]int{"sim-02": quietStops, "sim-00": firingStops} {
		i, ok := dropped[dev]
		if earliest, latest := stops-1+60, stops-1+60+sweepTicks+1; !ok || i <= earliest || i > latest {
			t.Errorf("%s was dropped after record %d (%v), want within (%d, %d]", dev, i, ok, earliest, latest)
		}
		if _, ok := changelog[deviceKey(dev)]; ok {
			t.Errorf("the compacted changelog still holds %s", dev)
		}
	}
	if _, ok := changelog[deviceKey("sim-01")]; !ok || p.Estimator(0).DeviceModel("sim-01") == nil {
		t.Error("sim-01, which reports throughout, was dropped")
	}
	if p.Devices() != 1 || p.Estimator(0).Devices() != 1 {
		t.Errorf("%d devices counted, %d held; want 1", p.Devices(), p.Estimator(0).Devices())
	}
	if got := expired(t, reg, "power"); got != 2 {
		t.Errorf("telekernel_detect_series_expired_total{stage=\"power\"} %v, want 2", got)
	}

	// sim-00 fired before it stopped; its alert resolves at its last
	// sample + device_expiry, with the firing detection's fingerprint.
	stale := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add((firingStops-1)*expiryTick + expiryAfter)
	if len(dets) != 2 || dets[0].State != schemas.StateFiring || dets[0].Device != "sim-00" ||
		dets[1].State != schemas.StateResolved || dets[1].Fingerprint != dets[0].Fingerprint || !dets[1].EventTime.Equal(stale) ||
		!dets[1].StartsAt.Equal(dets[0].StartsAt) || dets[1].Detector != Detector || !strings.Contains(dets[1].Annotations["description"], "the device stopped") {
		for _, d := range dets {
			t.Logf("%s %s %s at %v (starts %v, fingerprint %s): %s", d.Device, d.State, d.Detector, d.EventTime, d.StartsAt, d.Fingerprint, d.Annotations["description"])
		}
		t.Fatalf("want sim-00's firing detection, then one resolved at %v with its fingerprint saying the device stopped", stale)
	}

	// Back: fresh, as a stage that never saw it would hold it after the
	// same record.
	run(t, p, recs[firingBack:firingBack+1])
	fresh := newExpiryStage(t, Config{DeviceExpiry: expiryAfter}, prometheus.NewRegistry())
	run(t, fresh, recs[firingBack:firingBack+1])
	got, _ := p.Estimator(0).AppendDeviceState(nil, "sim-00")
	want, _ := fresh.Estimator(0).AppendDeviceState(nil, "sim-00")
	if len(want) == 0 || string(got) != string(want) {
		t.Errorf("sim-00 after it came back: state %x, want a new device's %x", got, want)
	}
	if p.Devices() != 2 {
		t.Errorf("%d devices counted after sim-00 came back, want 2", p.Devices())
	}
}

// TestPowerDeviceExpiryRestore: a stage restored from the changelog at
// any record continues exactly as the one that wrote it, the sweeps
// included (the same power rows and detections, state and checkpoints); a
// restore after a device's expiry does not bring it back, and a device
// that reports again after it starts fresh.
func TestPowerDeviceExpiryRestore(t *testing.T) {
	recs := expiryRecords(t)
	cfg := Config{DeviceExpiry: expiryAfter}
	// The sweeps fall every 7.5 minutes of event time: the first more
	// than an hour after sim-02's last sample (tick 599) is at tick 660,
	// after sim-00's (tick 1259) at tick 1320. A cut at those records
	// leaves the sweep to the restored stage; a cut one later restores
	// the tombstone.
	const dropped = 660
	for _, cut := range []int{quietStops + 30, dropped, dropped + 1, 1320, 1321, firingBack - 10, firingBack + 5} {
		a := newExpiryStage(t, cfg, prometheus.NewRegistry())
		log := map[string][]byte{} // as the topic holds it before compaction: tombstones kept
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
		if cut > dropped && b.Estimator(0).DeviceModel("sim-02") != nil || cut > 1320 && cut < firingBack && b.Estimator(0).DeviceModel("sim-00") != nil {
			t.Errorf("cut %d: the restore brought back a device that had expired", cut)
		}
		if a.Devices() != b.Devices() {
			t.Errorf("cut %d: %d devices restored, the writer held %d", cut, b.Devices(), a.Devices())
		}
		oa, _ := run(t, a, recs[cut:])
		ob, _ := run(t, b, recs[cut:])
		if !slices.Equal(oa, ob) {
			t.Errorf("cut %d: %d outputs after the handoff, %d without; first difference at %d", cut, len(ob), len(oa), firstDiff(oa, ob))
		}
		if ca, cb := checkpoint(a), checkpoint(b); !maps.EqualFunc(ca, cb, func(x, y []byte) bool { return string(x) == string(y) }) {
			t.Errorf("cut %d: the last checkpoints differ: %d and %d records", cut, len(ca), len(cb))
		}
		for _, dev := range []string{"sim-00", "sim-01", "sim-02"} {
			sa, _ := a.Estimator(0).AppendDeviceState(nil, dev)
			sb, _ := b.Estimator(0).AppendDeviceState(nil, dev)
			if string(sa) != string(sb) {
				t.Errorf("cut %d: the final state of %s differs", cut, dev)
			}
		}
	}
}

// expired returns telekernel_detect_series_expired_total{stage} in reg.
func expired(t *testing.T, reg *prometheus.Registry, stage string) float64 {
	t.Helper()
	return testenv.MetricValue(t, reg, "telekernel_detect_series_expired_total", "stage="+stage)
}

// firstDiff returns the index of the first line a and b differ at.
func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestPowerDeviceExpiryConfig: device_expiry defaults to a day; a
// negative one keeps every device; one under a minute is an error naming
// the field.
func TestPowerDeviceExpiryConfig(t *testing.T) {
	if got := (Config{}).WithDefaults().DeviceExpiry; got != 24*time.Hour {
		t.Errorf("default device_expiry %v", got)
	}
	recs := expiryRecords(t)
	p := newExpiryStage(t, Config{DeviceExpiry: -1}, prometheus.NewRegistry())
	run(t, p, recs[:quietStops+3*60])
	if p.Devices() != 3 || p.Estimator(0).DeviceModel("sim-02") == nil {
		t.Errorf("device_expiry -1: %d devices held, want all 3", p.Devices())
	}
	_, err := New(Config{DeviceExpiry: 30 * time.Second}, "power", "detections", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "device_expiry: 30s is too short") {
		t.Errorf("device_expiry 30s: %v, want an error naming it", err)
	}
}

// componentRecords is 4 h of two simulated devices with power, one record
// a minute; from 1 h, sim-01's PSU2 reports as PSU3 and its Ethernet8 as
// Ethernet9 (a PSU moved to another slot, an interface renamed): the
// same hardware under new names.
func componentRecords(t testing.TB) []*kgo.Record {
	t.Helper()
	start, _ := time.Parse(time.DateOnly, expiryStart)
	fleet, err := sim.New(sim.Config{Devices: 2, Interfaces: 8, Start: start, Interval: expiryTick, Power: true, Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	return stagetest.FleetTicks(t, fleet, 4*60, func(i int, s *schemas.Sample) bool {
		if s.Device == "sim-01" && i >= 60 {
			switch s.Keys {
			case "name=PSU2":
				s.Keys = "name=PSU3"
			case "name=Ethernet8":
				s.Keys = "name=Ethernet9"
			case "name=Ethernet8-transceiver":
				s.Keys = "name=Ethernet9-transceiver"
			}
		}
		return true
	})
}

// TestPowerComponentExpiry: a port or PSU of a device that reports on
// without it (removed, or renamed) is dropped from the device at the
// sweep that drops silent devices: the device's power is measured again
// (every PSU it holds must have a fresh reading) and the port is no longer
// modelled or written; the checkpoint writes the device without them, and
// a restore at any record continues alike. Before, sim-01 stayed
// unmeasured for good after its PSU2 reported as PSU3, and Ethernet8 kept
// being modelled beside Ethernet9.
func TestPowerComponentExpiry(t *testing.T) {
	recs := componentRecords(t)
	cfg := Config{DeviceExpiry: expiryAfter}
	p := newExpiryStage(t, cfg, prometheus.NewRegistry())
	// The first sweep boundary more than an hour after tick 59 is tick
	// 120 (16 × 7.5 minutes).
	const dropped = 120
	var cp map[string][]byte
	for i, r := range recs {
		err := p.Process(context.Background(), r, func(o *kgo.Record) {
			if o.Topic != "power" || string(o.Key) != "sim-01" {
				return
			}
			rows, err := schemas.DecodePower(kafka.Headers(o), o.Value)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Unix(0, rows[0].WindowStart).UTC().Sub(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
			switch measured := rows[0].Samples > 0; {
			case start < time.Hour && !measured:
				t.Errorf("sim-01's window at %v: not measured before the rename", start)
			case start >= 75*time.Minute && start < 2*time.Hour && measured:
				t.Errorf("sim-01's window at %v: measured while PSU2 was held without a reading", start)
			case start >= 2*time.Hour && !measured:
				t.Errorf("sim-01's window at %v: not measured after PSU2 was dropped", start)
			}
			for _, row := range rows {
				if row.Row == schemas.PowerRowPort && row.Component == "name=Ethernet8" && start >= 2*time.Hour {
					t.Errorf("sim-01's window at %v: Ethernet8, renamed an hour before, is still modelled", start)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		cp = checkpoint(p)
		if i == dropped {
			v, ok := cp[deviceKey("sim-01")]
			if !ok || strings.Contains(string(v), "name=PSU2") || strings.Contains(string(v), "name=Ethernet8") || !strings.Contains(string(v), "name=PSU3") {
				t.Errorf("the checkpoint after the sweep holds sim-01 (present %v) with PSU2 %v, Ethernet8 %v, PSU3 %v; want it without PSU2 and Ethernet8",
					ok, strings.Contains(string(v), "name=PSU2"), strings.Contains(string(v), "name=Ethernet8"), strings.Contains(string(v), "name=PSU3"))
			}
		}
	}
	if p.Devices() != 2 {
		t.Errorf("%d devices held, want 2", p.Devices())
	}

	for _, cut := range []int{dropped - 1, dropped, dropped + 1, dropped + 30} {
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
			t.Errorf("cut %d: %d outputs after the handoff, %d without; first difference at %d", cut, len(ob), len(oa), firstDiff(oa, ob))
		}
		if ca, cb := checkpoint(a), checkpoint(b); !maps.EqualFunc(ca, cb, func(x, y []byte) bool { return string(x) == string(y) }) {
			t.Errorf("cut %d: the last checkpoints differ", cut)
		}
	}
}
