package maintenance

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// scanLatest is Latest as a scan of every key of the tracker.
func scanLatest(t *Tracker, device string) int64 {
	var n int64
	for k, s := range t.series {
		if k.Device == device {
			n = max(n, s.ctr.LastTS)
			if s.bStart != 0 {
				n = max(n, s.lastTS)
			}
		}
	}
	for k, c := range t.covs {
		if k.Device == device {
			n = max(n, c.ts)
		}
	}
	for k, p := range t.psus {
		if k.Device == device {
			n = max(n, p.outTS, p.vTS, p.iTS, p.pTS)
		}
	}
	return n
}

// checkIndex fails t unless each device's keys (devKeys) are those of
// the maps and Latest is scanLatest for every device.
func checkIndex(t *testing.T, tr *Tracker, devices []string, at string) {
	t.Helper()
	held := map[string]int{}
	for k := range tr.series {
		held[k.Device]++
	}
	for k := range tr.covs {
		held[k.Device]++
	}
	for k := range tr.psus {
		held[k.Device]++
	}
	for dev, d := range tr.byDev {
		n := 0
		for _, k := range d.series {
			if tr.series[k] == nil || k.Device != dev {
				t.Fatalf("%s: %s indexed, not a series of %s", at, k, dev)
			}
		}
		for _, k := range d.covs {
			if _, ok := tr.covs[k]; !ok || k.Device != dev {
				t.Fatalf("%s: %s indexed, not a covariate of %s", at, k, dev)
			}
		}
		for _, k := range d.psus {
			if tr.psus[k] == nil || k.Device != dev {
				t.Fatalf("%s: %s indexed, not a PSU of %s", at, k, dev)
			}
		}
		n = len(d.series) + len(d.covs) + len(d.psus)
		if n != held[dev] || n == 0 {
			t.Fatalf("%s: %s has %d keys indexed, %d held", at, dev, n, held[dev])
		}
	}
	if len(tr.byDev) != len(held) {
		t.Fatalf("%s: %d devices indexed, %d hold keys", at, len(tr.byDev), len(held))
	}
	for _, dev := range devices {
		if got, want := tr.Latest(dev), scanLatest(tr, dev); got != want {
			t.Fatalf("%s: Latest(%s) = %d, a scan %d", at, dev, got, want)
		}
	}
}

// TestLatestIndex: over random samples of 4 devices (gauges, counters,
// covariates, PSU readings, device thresholds, some late and some far
// ahead), expiries, steps back, tombstones and restores, each device's
// keys are those the maps hold and Latest is a scan's; a series dated by
// a threshold stamped a year ahead does not count. Before, Latest read
// every key of the partition (0.8 ms a call among 2000 devices,
// BenchmarkLatest) and took a threshold's stamp for a reading's time.
func TestLatestIndex(t *testing.T) {
	cfg := Config{Bucket: 5 * time.Minute, Baseline: 6, MinBuckets: 6, MinFit: 6, Window: 24, Season: 15 * time.Minute, Stale: 30 * time.Minute}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	devices := []string{"d0", "d1", "d2", "d3"}
	rng := rand.New(rand.NewPCG(7, 7))
	now := t0.UnixNano()
	opt := func() string { return fmt.Sprintf("name=Ethernet%d-transceiver", rng.IntN(3)) }
	for step := range 4000 {
		dev := devices[rng.IntN(len(devices))]
		ts := now - int64(rng.IntN(3))*int64(time.Minute)
		switch op := rng.IntN(100); {
		case op < 25:
			tr.Observe(ts, dev, schemas.MetricOpticInputPower, opt(), -3+rng.Float64())
		case op < 35:
			tr.Observe(ts, dev, schemas.MetricTemperature, opt(), 40+rng.Float64())
		case op < 45:
			tr.Observe(ts, dev, schemas.MetricOpticLaserBias, opt(), 6+rng.Float64())
		case op < 55:
			tr.ObserveCounter(ts, dev, schemas.MetricInFCSErrors, "name=Ethernet1", uint64(step))
		case op < 65:
			psu := fmt.Sprintf("name=PSU%d", rng.IntN(2))
			for _, m := range []string{schemas.MetricPSUOutPower, schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent} {
				tr.Observe(ts, dev, m, psu, 100+rng.Float64())
			}
		case op < 72:
			if rng.IntN(10) == 0 {
				ts += int64(365 * 24 * time.Hour)
			}
			tr.Observe(ts, dev, schemas.MetricThresholdBiasUpper, opt()+",severity=CRITICAL", 20)
		case op < 80:
			now += int64(rng.IntN(90)) * int64(time.Minute)
			tr.Expire(now)
		case op < 84:
			tr.StepBack(dev, now-int64(rng.IntN(20))*int64(time.Minute))
		case op < 86:
			if ks := tr.Keys(); len(ks) > 0 {
				tr.Forget(ks[rng.IntN(len(ks))])
			}
		case op < 87:
			tr.ForgetDevice(dev)
		case op < 89:
			// Restored into a new tracker: the same answers.
			back, _ := New(cfg)
			for _, k := range tr.Keys() {
				b, _ := tr.AppendState(nil, k)
				if err := back.RestoreState(k, b); err != nil {
					t.Fatal(err)
				}
				if rng.IntN(4) == 0 { // restored twice: a later record of the key
					if err := back.RestoreState(k, b); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, d := range devices {
				if b, ok := tr.AppendDeviceState(nil, d); ok {
					for range 1 + rng.IntN(2) {
						if err := back.RestoreDeviceState(d, b); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			for _, d := range devices {
				if back.Latest(d) != tr.Latest(d) {
					t.Fatalf("step %d: restored Latest(%s) = %d, want %d", step, d, back.Latest(d), tr.Latest(d))
				}
			}
			checkIndex(t, back, devices, fmt.Sprintf("step %d, restored", step))
			tr = back
		default:
			now += int64(time.Minute)
		}
		checkIndex(t, tr, devices, fmt.Sprintf("step %d", step))
	}

	// A series of thresholds only, one stamped a year ahead: not a reading.
	tr, _ = New(cfg)
	tr.Observe(now, "d", schemas.MetricOpticInputPower, "name=Ethernet1-transceiver", -3)
	tr.Observe(now+int64(365*24*time.Hour), "d", schemas.MetricThresholdBiasUpper, "name=Ethernet2-transceiver,severity=CRITICAL", 20)
	if got := tr.Latest("d"); got != now {
		t.Errorf("Latest with a threshold a year ahead = %v, want the reading's %v", time.Unix(0, got).UTC(), time.Unix(0, now).UTC())
	}
	if !slices.ContainsFunc(tr.Keys(), func(k schemas.SeriesKey) bool { return k.Keys == "name=Ethernet2-transceiver" }) {
		t.Error("the threshold's series is not kept")
	}
}
