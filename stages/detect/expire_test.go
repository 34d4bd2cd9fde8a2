package detect

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// expiryRecords is 4 h of one record per 10 s tick: device "keep" reports
// a gauge throughout, with a spike at 1h30m; device "gone" reports a gauge, a counter and an
// interface's oper-status for the first 30 minutes and again from 3 h;
// device "fires" reports a gauge for 30 minutes whose last reading is far
// off (it fires), then stops.
func expiryRecords(t *testing.T) []*kgo.Record {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var recs []*kgo.Record
	octets := uint64(1 << 30)
	for i := range 4 * 360 {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		gauge := func(device, metric string, v float64) {
			sb.Append(&schemas.Sample{TS: ts, Device: device, Metric: metric, Kind: schemas.KindGauge, F64: v, Source: schemas.SourceSim})
		}
		keep := 40 + rng.NormFloat64()
		if i == 540 {
			keep = 400 // fires in the record whose sweep resolves "fires"
		}
		gauge("keep", "/system/cpu", keep)
		if i < 180 || i >= 3*360 {
			gauge("gone", "/system/cpu", 20+rng.NormFloat64())
			octets += uint64(10e6 * (1 + 0.05*rng.NormFloat64()))
			sb.Append(&schemas.Sample{TS: ts, Device: "gone", Metric: schemas.MetricInOctets, Keys: iface, Kind: schemas.KindCounter, U64: octets, Source: schemas.SourceSim})
			sb.Append(&schemas.Sample{TS: ts, Device: "gone", Metric: stateevents.MetricOperStatus, Keys: iface, Kind: schemas.KindState, Str: "UP", Source: schemas.SourceSim})
		}
		switch {
		case i < 179:
			gauge("fires", "/system/memory", 60+rng.NormFloat64())
		case i == 179:
			gauge("fires", "/system/memory", 600)
		}
		recs = append(recs, recordOf(t, sb))
	}
	return recs
}

// TestDetectSeriesExpiry: a counter or gauge series without a sample for
// detect.series_expiry (event time) is dropped at the next sweep, at most
// series_expiry/8 late: its memory goes, the next checkpoint writes its
// tombstone, the drop is counted, and the series starts cold when it comes
// back. Device "gone" stops entirely, so its oper-status (a state series,
// which stays while its device reports: TestDetectDeviceLiveKeepsStates)
// goes with it (TestDetectDeviceGone). A series whose alert
// fires when it stops gets its resolved detection (the firing one's
// fingerprint, at its last sample + series_expiry, saying why) before it
// goes. A stage restored from the changelog at any record continues
// exactly as the one that wrote it, the sweeps included.
func TestDetectSeriesExpiry(t *testing.T) {
	recs := expiryRecords(t)
	cfg := Config{SeriesExpiry: time.Hour}
	d := newTestDetect(t, cfg)
	reg := prometheus.NewRegistry()
	d.metrics = pipeline.NewMetrics(reg)
	changelog := map[string][]byte{}
	keep := func(m map[string][]byte) {
		for k, v := range m {
			changelog[k] = v
		}
	}
	gone := []schemas.SeriesKey{{Device: "gone", Metric: "/system/cpu"}, {Device: "gone", Metric: schemas.MetricInOctets, Keys: iface},
		{Device: "gone", Metric: stateevents.MetricOperStatus, Keys: iface}}
	stays := []schemas.SeriesKey{{Device: "keep", Metric: "/system/cpu"}}
	var dropped int // the record after which the gone series were dropped
	var dets []*schemas.Detection
	for i, r := range recs[:3*360] {
		dets = append(dets, process(t, d, []*kgo.Record{r})...)
		cp := checkpoint(d)
		keep(cp)
		states := d.SeriesStates()
		if states[gone[0]] == nil && dropped == 0 {
			dropped = i
			for _, k := range gone {
				if v, ok := cp[string(pipeline.StateKey(nil, k))]; !ok || v != nil {
					t.Errorf("record %d: the checkpoint after the drop holds %v (present %v) for %s, want a tombstone", i, v, ok, k)
				}
				if states[k] != nil {
					t.Errorf("record %d: %s still held", i, k)
				}
			}
		}
	}
	// The gone series' last sample is at tick 179; they may go once the
	// partition's newest sample is an hour past it and at a sweep
	// boundary, 7.5 minutes apart.
	if earliest, latest := 179+360, 179+360+45; dropped <= earliest || dropped > latest {
		t.Fatalf("the silent series were dropped after record %d, want within (%d, %d]", dropped, earliest, latest)
	}
	states := d.SeriesStates()
	for _, k := range stays {
		if states[k] == nil {
			t.Errorf("%s was dropped; want it kept", k)
		}
	}
	if states[schemas.SeriesKey{Device: "fires", Metric: "/system/memory"}] != nil {
		t.Error("the series that stopped while firing is still held")
	}
	var fires []*schemas.Detection
	for _, det := range dets {
		switch {
		case det.Device == "fires":
			fires = append(fires, det)
		case det.Device == "keep" && det.State == schemas.StateFiring && det.EventTime.Equal(t0.Add(90*time.Minute)):
		case det.Device == "keep" && det.State == schemas.StateResolved:
		default:
			t.Errorf("unexpected detection on %s %s: %s %s", det.Device, det.Metric, det.State, det.Annotations["description"])
		}
	}
	stale := t0.Add(179*10*time.Second + time.Hour)
	if len(fires) != 2 || fires[0].State != schemas.StateFiring || fires[1].State != schemas.StateResolved ||
		fires[1].Fingerprint != fires[0].Fingerprint || !fires[1].EventTime.Equal(stale) ||
		!fires[1].StartsAt.Equal(fires[0].StartsAt) || !strings.Contains(fires[1].Annotations["description"], "the series stopped") {
		for _, det := range fires {
			t.Logf("%s %s at %v (starts %v, fingerprint %s): %s", det.State, det.Detector, det.EventTime, det.StartsAt, det.Fingerprint, det.Annotations["description"])
		}
		t.Errorf("the series that stopped while firing: want its firing detection, then one resolved at %v with the same fingerprint saying the series stopped", stale)
	}
	if got := counterValue(t, reg, "telekernel_detect_series_expired_total"); got != 4 {
		t.Errorf("telekernel_detect_series_expired_total %v, want 4", got)
	}
	if d.Series() != len(stays) {
		t.Errorf("%d series held, want %d", d.Series(), len(stays))
	}

	// Back: cold, one point.
	process(t, d, recs[3*360:3*360+1])
	for _, k := range gone {
		st := d.parts[0].series[k]
		if st == nil || st.points > 1 {
			t.Fatalf("%s after it came back: %+v, want a new series", k, st)
		}
	}

	// Scored on 2 workers, holding the outputs as under the runner: the
	// same outputs in the same order, changelog and state.
	o1, c1, s1 := runWorkers(t, cfg, 1, 1, false, recs)
	o2, c2, s2 := runWorkers(t, cfg, 2, 1, true, recs)
	if !bytes.Equal(o1, o2) || !bytes.Equal(c1, c2) || !maps.EqualFunc(s1, s2, slices.Equal) {
		t.Errorf("2 workers holding outputs differ from 1: outputs %s; changelog %s", firstDiff(o2, o1), firstDiff(c2, c1))
	}

	// A restore from the changelog at any of these records continues as
	// the stage that wrote it.
	for _, cut := range []int{100, 179 + 360 + 20, dropped, dropped + 1, 3*360 - 1, 3*360 + 30} {
		a := newTestDetect(t, cfg)
		log := map[string][]byte{}
		for _, r := range recs[:cut] {
			process(t, a, []*kgo.Record{r})
			maps.Copy(log, checkpoint(a))
		}
		b := newTestDetect(t, cfg)
		for k, v := range log {
			if err := b.Restore(0, []byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		da, db := summary(process(t, a, recs[cut:])), summary(process(t, b, recs[cut:]))
		if !slices.Equal(da, db) {
			t.Errorf("cut %d: detections after the handoff %v, without %v", cut, db, da)
		}
		if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
			t.Errorf("cut %d: final states differ", cut)
		}
		if !maps.EqualFunc(checkpoint(a), checkpoint(b), slices.Equal) {
			t.Errorf("cut %d: the last checkpoints differ", cut)
		}
	}
}

// TestDetectSeriesExpiryConfig: a negative series_expiry keeps every
// series; one under a minute is an error naming the field.
func TestDetectSeriesExpiryConfig(t *testing.T) {
	recs := expiryRecords(t)
	d := newTestDetect(t, Config{SeriesExpiry: -1})
	process(t, d, recs[:3*360])
	if d.Series() != 5 {
		t.Errorf("series_expiry -1: %d series held, want all 5", d.Series())
	}
	if (Config{}).WithDefaults().SeriesExpiry != DefaultSeriesExpiry {
		t.Errorf("default series_expiry %v", (Config{}).WithDefaults().SeriesExpiry)
	}
	_, err := New(Config{SeriesExpiry: 30 * time.Second}, "out", pipeline.NewMetrics(prometheus.NewRegistry()), nil)
	if err == nil || !strings.Contains(err.Error(), "series_expiry: 30s") {
		t.Errorf("series_expiry 30s: %v, want an error naming it", err)
	}
}

// counterValue returns the sum of the samples of the counter name in reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
