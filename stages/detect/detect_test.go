package detect

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/rangebreak"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/levelshift"
	"github.com/telekernel/telekernel/schemas"
)

func newTestDetect(t testing.TB, cfg Config) *Stage {
	t.Helper()
	d, err := New(cfg, "out", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// process runs recs through d with every record on partition 0 and returns
// the detections emitted.
func process(t testing.TB, d *Stage, recs []*kgo.Record) []*schemas.Detection {
	t.Helper()
	var out []*schemas.Detection
	for _, r := range recs {
		err := d.Process(context.Background(), r, func(o *kgo.Record) {
			det, err := schemas.DecodeDetection(kafka.Headers(o), o.Value)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, det)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestDetectSpikeOneAlertExplained: the simulator's default fault (a
// traffic spike on sim-01 Ethernet1 from 00:45 to 00:55) is one firing and
// one resolved detection on each affected counter, nothing else fires, and
// each detection explains itself: the detectors that fired, the expected
// value and a band that excludes the firing point.
func TestDetectSpikeOneAlertExplained(t *testing.T) {
	recs, _, _ := simMessages(t, 3, 720, nil)
	d := newTestDetect(t, Config{})
	dets := process(t, d, recs)
	start := time.Date(2026, 11, 1, 0, 45, 0, 0, time.UTC)
	end := start.Add(10 * time.Minute)
	perSeries := map[string][]string{}
	for _, det := range dets {
		k := det.Metric + " " + det.Keys
		if det.Device != "sim-01" || det.Keys != "name=Ethernet1" {
			t.Errorf("unexpected detection %s %s: %s", det.Device, k, det.Annotations["description"])
			continue
		}
		perSeries[k] = append(perSeries[k], det.State)
		if len(det.Detectors) == 0 || !slices.Contains(det.Detectors, det.Detector) {
			t.Errorf("%s %s: detector %q, detectors %v", k, det.State, det.Detector, det.Detectors)
		}
		if !(det.Band.Lower < det.Expected && det.Expected < det.Band.Upper) {
			t.Errorf("%s %s: expected %v outside its band %+v", k, det.State, det.Expected, det.Band)
		}
		switch det.State {
		case schemas.StateFiring:
			if det.EventTime.Before(start) || det.EventTime.After(end) {
				t.Errorf("%s fired at %v, outside the fault", k, det.EventTime)
			}
			if det.Observed <= det.Band.Upper || det.Score < ensemble.DefaultFire || det.Severity == schemas.SeverityInfo {
				t.Errorf("%s firing: observed %v, band %+v, score %v, severity %s", k, det.Observed, det.Band, det.Score, det.Severity)
			}
		case schemas.StateResolved:
			if det.EventTime.Before(end) || det.EventTime.After(end.Add(5*time.Minute)) {
				t.Errorf("%s resolved at %v, want shortly after %v", k, det.EventTime, end)
			}
		}
		t.Logf("%s %s at %s: %s", k, det.State, det.EventTime.Format(time.TimeOnly), det.Annotations["description"])
	}
	for _, m := range []string{schemas.MetricInOctets, schemas.MetricInUnicastPkts} {
		if got := perSeries[m+" name=Ethernet1"]; !slices.Equal(got, []string{schemas.StateFiring, schemas.StateResolved}) {
			t.Errorf("%s: transitions %v, want firing then resolved", m, got)
		}
	}
	if d.Series() != 3*30+3*4 {
		t.Errorf("%d series, want %d (30 scored per device, and the oper-status of its 4 interfaces)", d.Series(), 3*30+3*4)
	}
	enc := 0
	for _, b := range d.SeriesStates() {
		enc += len(b)
	}
	t.Logf("state per series: %d B in memory (detectors + %d B overhead), %d B in the changelog", d.StateBytes()/int64(d.Series()), seriesOverhead, enc/d.Series())
	// The README's bound (issue 16): at most 4 KB of changelog per series.
	if enc/d.Series() > 4096 {
		t.Errorf("%d B of changelog per series, want at most 4096", enc/d.Series())
	}
}

// checkpoint returns the changelog records of every series changed since
// the last checkpoint, by partition and key.
func checkpoint(d *Stage) map[string][]byte {
	out := map[string][]byte{}
	d.Checkpoint(func(_ int32, key, value []byte) { out[string(key)] = value })
	return out
}

// TestDetectStateHandoff: a stage restored from the changelog at any point
// continues exactly as the one that wrote it: same detections, same state.
func TestDetectStateHandoff(t *testing.T) {
	recs, _, _ := simMessages(t, 3, 720, nil)
	for _, cut := range []int{len(recs) / 4, len(recs) / 2, 3 * len(recs) / 4} {
		a := newTestDetect(t, Config{})
		process(t, a, recs[:cut])
		b := newTestDetect(t, Config{})
		for k, v := range checkpoint(a) {
			if err := b.Restore(0, []byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		if b.Series() != a.Series() || b.StateBytes() != a.StateBytes() {
			t.Fatalf("cut %d: restored %d series (%d B), want %d (%d B)", cut, b.Series(), b.StateBytes(), a.Series(), a.StateBytes())
		}
		da, db := process(t, a, recs[cut:]), process(t, b, recs[cut:])
		if len(da) != len(db) {
			t.Fatalf("cut %d: %d detections after the handoff, %d without", cut, len(db), len(da))
		}
		if cut == len(recs)/4 && len(da) == 0 {
			t.Fatalf("cut %d: no detection after the first cut to compare", cut)
		}
		for i := range da {
			da[i].DetectedAt, db[i].DetectedAt = time.Time{}, time.Time{}
			if ja, jb := *da[i], *db[i]; ja.ID != jb.ID || ja.Score != jb.Score || ja.Expected != jb.Expected || ja.Band != jb.Band || !slices.Equal(ja.Detectors, jb.Detectors) {
				t.Errorf("cut %d: detection %d differs:\n%+v\n%+v", cut, i, ja, jb)
			}
		}
		if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
			t.Errorf("cut %d: final states differ", cut)
		}
	}
}

// appendStateV1 writes a version 1 record as the robust-z-only stage did.
func appendStateV1(kind schemas.Kind, lastTS int64, last uint64, firing bool, startsAt int64, window []float64) []byte {
	dst := []byte{1, byte(kind)}
	dst = binary.AppendUvarint(dst, uint64(len(window)))
	dst = binary.AppendVarint(dst, lastTS)
	dst = binary.AppendUvarint(dst, last)
	dst = binary.AppendUvarint(dst, 0)
	f := byte(0)
	if firing {
		f = 1
	}
	dst = append(dst, f)
	dst = binary.AppendVarint(dst, startsAt)
	dst = binary.AppendUvarint(dst, 2)
	dst = binary.AppendUvarint(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(9))
	dst = binary.AppendUvarint(dst, 5)
	dst = binary.AppendUvarint(dst, uint64(len(window)))
	for _, v := range window {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	return dst
}

// TestDetectMigratesV1State: a changelog record of the robust-z-only stage
// (state version 1) restores into the ensemble: the counter keeps its
// baseline (no lost rate), the robust window is kept, and an alert that was
// firing resolves here instead of being left open.
func TestDetectMigratesV1State(t *testing.T) {
	d := newTestDetect(t, Config{})
	k := schemas.SeriesKey{Device: "r1", Metric: schemas.MetricInOctets, Keys: "name=Ethernet1"}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	window := make([]float64, 60)
	for i := range window {
		window[i] = 1000 + float64(i%7)
	}
	if err := d.Restore(0, pipeline.StateKey(nil, k), appendStateV1(schemas.KindCounter, t0, 1_000_000, true, t0-60e9, window)); err != nil {
		t.Fatal(err)
	}
	st := d.parts[0].series[k]
	if st == nil || st.counter.Last != 1_000_000 || st.counter.LastTS != t0 || st.points != 60 {
		t.Fatalf("migrated state %+v", st)
	}
	// Steady traffic of 1000 B/s: the migrated alert resolves.
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	for i := 1; i <= 10; i++ {
		sb.Append(&schemas.Sample{TS: t0 + int64(i)*10e9, Device: k.Device, Metric: k.Metric, Keys: k.Keys, Kind: schemas.KindCounter,
			U64: 1_000_000 + uint64(i)*10_000, Source: schemas.SourceSim})
	}
	dets := process(t, d, []*kgo.Record{recordOf(t, sb)})
	if len(dets) != 1 || dets[0].State != schemas.StateResolved || !dets[0].StartsAt.Equal(time.Unix(0, t0-60e9)) || dets[0].Detector != "robust_z" {
		t.Fatalf("after migration: %+v", dets)
	}
	// A record of an unknown version starts cold with a warning, not an
	// error; a truncated one is an error.
	if err := d.Restore(0, pipeline.StateKey(nil, k), []byte{9, byte(schemas.KindGauge)}); err != nil {
		t.Fatal(err)
	}
	for _, rec := range [][]byte{{stateVersion, byte(schemas.KindGauge), 0, 1}, {2, byte(schemas.KindGauge), 1}} {
		if err := d.Restore(0, pipeline.StateKey(nil, k), rec); err == nil {
			t.Fatalf("a truncated record %v restored", rec)
		}
	}
}

func recordOf(t testing.TB, sb *schemas.SampleBuilder) *kgo.Record {
	t.Helper()
	rec := sb.NewRecord()
	defer rec.Release()
	val, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Topic: "in", Value: val}
	for _, h := range schemas.SamplesHeaders() {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return r
}

// TestDetectConfig: per-kind and per-metric ensemble configuration, the
// stage's gate, and errors that name the field.
func TestDetectConfig(t *testing.T) {
	c := Config{Detectors: ensemble.MetricsConfig{Metrics: []ensemble.MetricOverride{
		{Metric: "/components/component/state/temperature/*", Config: ensemble.Config{Detectors: []string{"robust_z", "forest"}, MinZ: 8}},
	}}}.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	gate := alert.Config{}.WithDefaults()
	ctr := c.EnsembleConfig(schemas.MetricInOctets, true)
	if ctr.RobustZ.MinMAD != 1 || ctr.RobustZ.Window != c.Detectors.Counters.RobustZ.Window || ctr.MinZ != alert.DefaultFireZ || ctr.BandZ != alert.DefaultFireZ ||
		ctr.ResolveZ != alert.DefaultResolveZ || ctr.Hold != DefaultHold || ctr.Confirm != alert.DefaultConfirm || !slices.Equal(ctr.Detectors, DefaultDetectors) {
		t.Errorf("counter config %+v", ctr)
	}
	if ctr.SpikeZ != 0 {
		t.Errorf("counter spike_z %v, want 0 (counter rates wait for confirm)", ctr.SpikeZ)
	}
	if g := c.EnsembleConfig(schemas.MetricPSUOutPower, false); g.SpikeZ != DefaultGaugeSpikeZ || g.Confirm != gate.Confirm {
		t.Errorf("gauge spike_z %v confirm %d, want %v and %d", g.SpikeZ, g.Confirm, DefaultGaugeSpikeZ, gate.Confirm)
	}
	if g := c.EnsembleConfig(schemas.MetricPSUOutPower, false); !slices.Equal(g.Detectors, DefaultDetectors) {
		t.Errorf("sensor gauge members %v, want %v", g.Detectors, DefaultDetectors)
	}
	if g := c.EnsembleConfig("/system/cpus/cpu/state/total/instant", false); !slices.Equal(g.Detectors, DefaultGaugeDetectors) {
		t.Errorf("gauge members %v, want %v", g.Detectors, DefaultGaugeDetectors)
	}
	high := Config{Detectors: ensemble.MetricsConfig{Gauges: ensemble.Config{MinZ: 12}}}.WithDefaults()
	if g := high.EnsembleConfig(schemas.MetricPSUOutPower, false); g.SpikeZ != 12 {
		t.Errorf("gauge spike_z with min_z 12: %v, want 12", g.SpikeZ)
	}
	tmp := c.EnsembleConfig(schemas.MetricTemperature, false)
	if tmp.MinZ != 8 || tmp.ResolveZ != 3 || tmp.SpikeZ != DefaultGaugeSpikeZ || !slices.Equal(tmp.Detectors, []string{"robust_z", "forest"}) {
		t.Errorf("temperature override %+v", tmp)
	}
	f := func(c Config, want string) {
		t.Helper()
		err := c.WithDefaults().Validate()
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want prefix %q", err, want)
		}
	}
	f(Config{Detectors: ensemble.MetricsConfig{Gauges: ensemble.Config{Cooldown: -1}}}, "detectors.gauges.cooldown")
	f(Config{Detectors: ensemble.MetricsConfig{Counters: ensemble.Config{Detectors: []string{"nope"}}}}, "detectors.counters.detectors")
	f(Config{Detectors: ensemble.MetricsConfig{Metrics: []ensemble.MetricOverride{{Metric: "/x", Config: ensemble.Config{MinZ: 4, ResolveZ: 5}}}}}, "detectors.metrics[0].resolve_z")
	f(Config{Detectors: ensemble.MetricsConfig{Metrics: []ensemble.MetricOverride{{}}}}, "detectors.metrics[0].metric")
	f(Config{Detectors: ensemble.MetricsConfig{Gauges: ensemble.Config{SpikeZ: 4}}}, "detectors.gauges.spike_z")
	f(Config{Detectors: ensemble.MetricsConfig{Counters: ensemble.Config{SpikeZ: 5}}}, "detectors.counters.spike_z")
	f(Config{Detectors: ensemble.MetricsConfig{Gauges: ensemble.Config{RangeBreak: rangebreak.Config{Bins: -1}}}}, "detectors.gauges.range_break")
	f(Config{Detectors: ensemble.MetricsConfig{Counters: ensemble.Config{LevelShift: levelshift.Config{Ratio: 0.5}}}}, "detectors.counters.level_shift.ratio")
	f(Config{Transaction: pipeline.TransactionConfig{Interval: time.Minute}}, "transaction.interval")
}

// TestDetectConfigYAML: the detectors section decodes strictly (as
// internal/config does) with per-metric overrides inline.
func TestDetectConfigYAML(t *testing.T) {
	src := `
alert: {fire_z: 8}
transaction: {interval: 1s, max_records: 500}
detectors:
  counters: {cooldown: 50, level_shift: {ratio: 20, confirm: 3}}
  metrics:
    - metric: /components/component/state/temperature/*
      detectors: [robust_z, forest]
      min_z: 10
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if e := c.EnsembleConfig(schemas.MetricInOctets, true); e.Cooldown != 50 || e.MinZ != 8 || e.ResolveZ != 3 ||
		e.LevelShift.Ratio != 20 || e.LevelShift.Confirm != 3 || e.LevelShift.Spread != levelshift.DefaultSpread || !slices.Equal(e.Detectors, DefaultDetectors) {
		t.Errorf("counters: %+v", e)
	}
	if c.Transaction != (pipeline.TransactionConfig{Interval: time.Second, MaxRecords: 500, CatchUp: time.Second}) {
		t.Errorf("transaction: %+v", c.Transaction)
	}
	if e := c.EnsembleConfig(schemas.MetricTemperature, false); e.MinZ != 10 || e.Cooldown != ensemble.DefaultCooldown || !slices.Equal(e.Detectors, []string{"robust_z", "forest"}) {
		t.Errorf("temperature: %+v", e)
	}
	if _, err := New(c, "out", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
}

// TestDetectDaysWithFaults runs three simulated days (so the seasonal
// baseline is in use) with faults on the third: each faulted series fires
// once near the fault's start and resolves once shortly after its end,
// even while the seasonal baseline gives the expected value (Hold keeps
// the incident out of it); a counter reset fires nothing; every detection
// belongs to a fault (a fan failure also heats the chassis and speeds the
// other fan, and the stopped fan is slower than its sibling: the sibling
// rule's alert, apart from the ensemble's); the two clean days fire
// nothing.
func TestDetectDaysWithFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("three simulated days")
	}
	day := 24 * time.Hour
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	type fault struct {
		sim.Fault
		series []string // metric keys that must fire once and resolve once
	}
	faults := []fault{
		{sim.Fault{Device: "sim-01", Interface: "Ethernet1", Kind: sim.FaultTrafficSpike, After: 2*day + 12*time.Hour, Duration: 10 * time.Minute},
			[]string{schemas.MetricInOctets + " name=Ethernet1", schemas.MetricInUnicastPkts + " name=Ethernet1"}},
		{sim.Fault{Device: "sim-02", Interface: "Ethernet2", Kind: sim.FaultTrafficDrop, After: 2*day + 14*time.Hour, Duration: 30 * time.Minute},
			[]string{schemas.MetricInOctets + " name=Ethernet2", schemas.MetricInUnicastPkts + " name=Ethernet2"}},
		{sim.Fault{Device: "sim-00", Component: "Fan1", Kind: sim.FaultFanFailure, After: 2*day + 16*time.Hour, Duration: time.Hour},
			[]string{schemas.MetricFanSpeed + " name=Fan1", schemas.MetricFanSpeed + " name=Fan1 rule=" + PeerRule}},
		{sim.Fault{Device: "sim-01", Interface: "Ethernet2", Kind: sim.FaultCounterReset, After: 2*day + 18*time.Hour}, nil},
	}
	var sf []sim.Fault
	for _, f := range faults {
		sf = append(sf, f.Fault)
	}
	recs, _, _ := simMessages(t, 3, 3*8640, sf)
	dets := process(t, newTestDetect(t, Config{}), recs)
	got := map[string][]*schemas.Detection{}
	for _, det := range dets {
		k := det.Device + " " + det.Metric + " " + det.Keys
		if r := det.Labels["rule"]; r != "" {
			k += " rule=" + r // an alert of its own beside the ensemble's
		}
		got[k] = append(got[k], det)
		ok := false
		for _, f := range faults {
			start, end := t0.Add(f.After), t0.Add(f.After+f.Duration+5*time.Minute)
			if det.Device == f.Device && !det.EventTime.Before(start) && !det.EventTime.After(end) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("detection outside every fault: %s %s %s %s %s", det.State, det.EventTime.Format(time.DateTime), det.Device, det.Metric, det.Keys)
		}
	}
	for _, f := range faults {
		start, end := t0.Add(f.After), t0.Add(f.After+f.Duration)
		for _, s := range f.series {
			ds := got[f.Device+" "+s]
			if len(ds) != 2 || ds[0].State != schemas.StateFiring || ds[1].State != schemas.StateResolved ||
				ds[0].EventTime.After(start.Add(time.Minute)) || ds[1].EventTime.Before(end) || ds[1].EventTime.After(end.Add(5*time.Minute)) {
				for _, d := range ds {
					t.Logf("  %s %s: %s", d.State, d.EventTime.Format(time.DateTime), d.Annotations["description"])
				}
				t.Errorf("%s %s %s: %d detections, want firing by %v and resolved in [%v, +5m]", f.Kind, f.Device, s, len(ds), start.Add(time.Minute).Format(time.TimeOnly), end.Format(time.TimeOnly))
			}
		}
		if f.Kind == sim.FaultCounterReset {
			for k := range got {
				if strings.HasPrefix(k, f.Device+" ") && strings.HasSuffix(k, "name="+f.Interface) {
					t.Errorf("counter reset fired %s", k)
				}
			}
		}
	}
}

func multivarConfig() Config {
	return Config{Multivar: MultivarConfig{Groups: []MultivarGroup{
		{Name: "interface-traffic", Metrics: []string{schemas.MetricInOctets, schemas.MetricOutOctets}},
	}}}
}

// TestDetectMultivar: with a group of in and out octets, the default
// spike (inbound only, so the in/out relationship breaks) is one
// multivariate alert naming in-octets as the top contributor; the other
// interfaces fire nothing; the state hands off exactly.
func TestDetectMultivar(t *testing.T) {
	recs, _, _ := simMessages(t, 3, 720, nil)
	d := newTestDetect(t, multivarConfig())
	dets := process(t, d, recs)
	start := time.Date(2026, 11, 1, 0, 45, 0, 0, time.UTC)
	var states []string
	for _, det := range dets {
		if !strings.HasPrefix(det.Metric, multivarPrefix) {
			continue
		}
		t.Logf("%s %s %s %s: %s %+v", det.State, det.EventTime.Format(time.TimeOnly), det.Device, det.Keys, det.Annotations["description"], det.Contributors)
		if det.Device != "sim-01" || det.Keys != "name=Ethernet1" || det.Metric != "multivar/interface-traffic" {
			t.Errorf("multivariate detection off the fault: %s %s %s", det.Device, det.Metric, det.Keys)
			continue
		}
		states = append(states, det.State)
		if det.Detector != "mahalanobis" || len(det.Contributors) == 0 || det.Contributors[0].Metric != schemas.MetricInOctets {
			t.Errorf("%s: detector %s, contributors %+v", det.State, det.Detector, det.Contributors)
		}
		if det.State == schemas.StateFiring && (det.EventTime.Before(start) || det.EventTime.After(start.Add(2*time.Minute)) || det.Observed <= det.Band.Upper) {
			t.Errorf("firing at %v, observed %v, band %+v", det.EventTime, det.Observed, det.Band)
		}
		if end := start.Add(10 * time.Minute); det.State == schemas.StateResolved && (det.EventTime.Before(end) || det.EventTime.After(end.Add(5*time.Minute))) {
			t.Errorf("resolved at %v, want shortly after %v", det.EventTime, end)
		}
	}
	if !slices.Equal(states, []string{schemas.StateFiring, schemas.StateResolved}) {
		t.Errorf("multivariate transitions %v, want firing then resolved", states)
	}

	// Handoff: a stage restored from the changelog continues exactly.
	cut := len(recs) / 4 // before the spike, so detections follow the cut
	a := newTestDetect(t, multivarConfig())
	process(t, a, recs[:cut])
	b := newTestDetect(t, multivarConfig())
	for k, v := range checkpoint(a) {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	da, db := process(t, a, recs[cut:]), process(t, b, recs[cut:])
	if len(da) != len(db) || len(da) == 0 {
		t.Fatalf("%d detections after the handoff, %d without; want the same, and some", len(db), len(da))
	}
	for i := range da {
		if da[i].ID != db[i].ID || da[i].Score != db[i].Score || da[i].Observed != db[i].Observed {
			t.Errorf("detection %d differs: %s %v, %s %v", i, da[i].ID, da[i].Observed, db[i].ID, db[i].Observed)
		}
	}
	if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
		t.Error("final states differ")
	}
	// Without groups, no group state is kept or written.
	if n := len(newTestDetect(t, Config{}).cfg.Multivar.Groups); n != 0 {
		t.Errorf("%d groups by default", n)
	}
	f := func(m MultivarConfig, want string) {
		t.Helper()
		err := Config{Multivar: m}.WithDefaults().Validate()
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want prefix %q", err, want)
		}
	}
	f(MultivarConfig{Groups: []MultivarGroup{{Name: "a", Metrics: []string{"/x"}}}}, "multivar.groups[0].metrics")
	f(MultivarConfig{Groups: []MultivarGroup{{Name: "a", Metrics: []string{"/x", "/y"}}, {Name: "b", Metrics: []string{"/y", "/z"}}}}, "multivar.groups[1].metrics")
	f(MultivarConfig{Groups: []MultivarGroup{{Metrics: []string{"/x", "/y"}}}}, "multivar.groups[0].name")
}

// TestBadNamesDropped: samples whose metric or device is empty name no
// series. They used to make one (a producer other than ours can write
// them), and its first alert stopped the stage, since a detection without
// a metric cannot be written (found by FuzzRestoreState). They are
// dropped and counted; the rest of the message is scored. A changelog
// record of such a series is dropped at restore.
func TestBadNamesDropped(t *testing.T) {
	d := newTestDetect(t, Config{})
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range 400 {
		x := 10 + float64(i%3)
		if i > 350 {
			x = 1e6 // far off: an alert, had the series been kept
		}
		ts := t0 + int64(i)*int64(10*time.Second)
		for _, s := range []schemas.Sample{
			{TS: ts, Device: "d1", Metric: "", Kind: schemas.KindGauge, F64: x, Source: "sim"},
			{TS: ts, Device: "", Metric: "/m", Kind: schemas.KindGauge, F64: x, Source: "sim"},
			{TS: ts, Device: "d1", Metric: "/m", Kind: schemas.KindGauge, F64: x, Source: "sim"},
		} {
			sb.Append(&s)
		}
	}
	rec := sb.NewRecord()
	defer rec.Release()
	val, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Topic: "in", Key: []byte("d1"), Value: val, Headers: kafka.RecordHeaders(schemas.SamplesHeaders())}
	dets := process(t, d, []*kgo.Record{r})
	if d.Series() != 1 || len(dets) == 0 {
		t.Errorf("%d series and %d detections, want the one named series and its alert", d.Series(), len(dets))
	}
	if got := d.DroppedRows(); got != (schemas.RowDrops{BadName: 800}) {
		t.Errorf("dropped %+v, want 800 rows with an empty name", got)
	}
	// A changelog record of such a series, written by an earlier release,
	// is dropped at restore: nothing would update it again.
	for _, st := range d.SeriesStates() {
		if err := d.Restore(0, pipeline.StateKey(nil, schemas.SeriesKey{Device: "d1"}), st); err != nil || d.Series() != 1 {
			t.Errorf("restoring a series without a metric: %v, %d series, want it dropped", err, d.Series())
		}
	}
}
