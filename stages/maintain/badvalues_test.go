package maintain

import (
	"cmp"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// Bad-value probes: the fleet's ticks (a minute), the tick of the bad
// sample (the first of a bucket, 15 minutes after the baselines are
// learned), the device and optic it is of.
const (
	badTicks  = 240
	badAt     = 45
	badDevice = "sim-00"
	badOptic  = "name=Ethernet2-transceiver"
	// badErrors is what the error counters counted before the run.
	badErrors = 1e6
	// The optic's device thresholds (dBm, mA): the lower rx power's sits
	// 4 dB below its healthy level, as the configured one would.
	badRxLower, badRxUpper     = -7.0, 3.0
	badBiasLower, badBiasUpper = 2.0, 12.0
)

// badFaults are the real faults after the bad sample, all on its device:
// the optic's decay, its frame errors, a PSU and a fan.
var badFaults = []sim.Fault{
	{Device: badDevice, Interface: "Ethernet2", Kind: sim.FaultOpticDegradation, After: time.Hour, Duration: 2 * time.Hour},
	{Device: badDevice, Component: "PSU1", Kind: sim.FaultPSUDegradation, After: 180 * time.Minute, Duration: 60 * time.Minute, Precursor: 90 * time.Minute, Factor: 0.2},
	{Device: badDevice, Component: "Fan1", Kind: sim.FaultFanFailure, After: 180 * time.Minute, Duration: 60 * time.Minute, Precursor: 90 * time.Minute},
	{Device: badDevice, Interface: "Ethernet2", Kind: sim.FaultRxErrors, After: 150 * time.Minute, Duration: 90 * time.Minute, Factor: 1.5},
}

// badThresholds are the optic's device thresholds, sent each tick before
// its readings: key suffix, metric, value.
var badThresholds = []struct {
	sev, metric string
	v           float64
}{
	{"CRITICAL", schemas.MetricThresholdInPowerLower, badRxLower},
	{"CRITICAL", schemas.MetricThresholdBiasUpper, badBiasUpper},
}

// badRecords returns the probes' fleet, one record per device and tick,
// with edit applied to a copy of each sample (nil: none; a sample whose
// device it clears is dropped).
func badRecords(t *testing.T, edit func(tick int, s *schemas.Sample)) []*kgo.Record {
	t.Helper()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fleet, err := sim.New(sim.Config{Devices: 2, Interfaces: 4, Start: start, Interval: time.Minute, Power: true, Transceivers: true, Faults: badFaults})
	if err != nil {
		t.Fatal(err)
	}
	hs := kafka.RecordHeaders(schemas.SamplesHeaders())
	var recs []*kgo.Record
	for i := range badTicks {
		builders := map[string]*schemas.SampleBuilder{}
		add := func(c *schemas.Sample) {
			if edit != nil {
				edit(i, c)
			}
			if c.Device == "" { // an edit dropped it
				return
			}
			b := builders[c.Device]
			if b == nil {
				b = schemas.NewSampleBuilder(memory.NewGoAllocator())
				builders[c.Device] = b
			}
			b.Append(c)
		}
		for _, th := range badThresholds {
			add(&schemas.Sample{TS: start.Add(time.Duration(i) * time.Minute).UnixNano(), Device: badDevice, Metric: th.metric,
				Keys: badOptic + ",severity=" + th.sev, Kind: schemas.KindGauge, F64: th.v})
		}
		fleet.Next(func(s *schemas.Sample) {
			c := *s
			if c.Metric == schemas.MetricInErrors {
				c.Metric = schemas.MetricInFCSErrors // the signal with the FCS errors the fault adds
				c.U64 += badErrors
			}
			add(&c)
		})
		for _, dev := range slices.Sorted(maps.Keys(builders)) {
			b := builders[dev]
			rec := b.NewRecord()
			val, err := schemas.EncodeSamples(nil, rec)
			rec.Release()
			b.Release()
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, &kgo.Record{Topic: "in", Key: []byte(dev), Value: val, Headers: hs})
		}
	}
	return recs
}

// badStage returns a stage with every default signal on 5-minute
// buckets (half an hour of baseline), so that the compressed hours'
// faults are predicted.
func badStage(t *testing.T, log *slog.Logger) *Stage {
	t.Helper()
	var cfg Config
	cfg.Model = maintenance.Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute}
	m, err := New(cfg, "maintenance", pipeline.NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// badOut is what a probe's run wrote: the events and what went wrong.
type badOut struct {
	events   []*schemas.MaintenanceEvent
	failures []string
}

// badRun runs recs through a maintain stage, checkpointing after every
// record into one changelog, and carries on after record restoreAt with
// a new stage restored from it; at the end, the changelog is restored
// once more.
func badRun(t *testing.T, recs []*kgo.Record, restoreAt int) badOut {
	t.Helper()
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var out badOut
	out.failures = stagetest.Restoring(func() pipeline.Processor { return badStage(t, log) }, recs, restoreAt, func(_ int, o *kgo.Record) error {
		e, err := schemas.DecodeMaintenance(kafka.Headers(o), o.Value)
		if err == nil {
			out.events = append(out.events, e)
		}
		return err
	})
	out.failures = append(out.failures, stagetest.Warnings(logs.String())...)
	return out
}

// badEventErr reports a number of an event no input may make: one not
// finite.
func badEventErr(e *schemas.MaintenanceEvent) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"value", e.Value}, {"threshold", e.Threshold}, {"slope", e.SlopePerHour}, {"confidence", e.Confidence}, {"lead time", e.LeadTimeSeconds}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s %v", f.name, f.v)
		}
	}
	return nil
}

// badName names an event's transition and its time (minutes into the
// run).
func badName(e *schemas.MaintenanceEvent) string {
	min := e.EventTime.Sub(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) / time.Minute
	return fmt.Sprintf("%s %s %s %s %s@%d", e.State, e.Device, e.Component, e.Signal, e.CloseReason, min)
}

// TestMaintainBadValues probes the maintain stage, every default signal
// on 5-minute buckets, with one impossible or garbled sample of sim-00 a
// quarter of an hour after its baselines are learned, before its optic
// decays (and its laser bias rises), a PSU and a fan fail and its frame
// errors rise: a gauge's NaN, ±Inf, -0, 0, a negative value, -40 dBm,
// 1e300, MaxFloat64, 1000 or 1/1000 times its value (rx power, laser
// bias, fan speed, temperature, PSU output power and input current); a
// frame error counter's one sample of 0 or 2^64-1, a wrap past 2^64, a
// reset; the optic's device thresholds NaN or inverted (the lower's the
// upper's value) once. For each, the stage returns no error and does
// not panic, logs no WARN line, checkpoints state that restores right
// after the sample and at the end, emits no event with a number that is
// not finite, and emits the run without it's events (the same
// transitions at the same times, predicted failures within a bucket).
// Before, one inverted rx power threshold, in force when a bucket
// closed, failed the optic: its trend was dropped (two updates of its
// later case missed), or its open case closed as failed 30 minutes early.
func TestMaintainBadValues(t *testing.T) {
	if testing.Short() {
		t.Skip("a hundred runs of 4 simulated hours")
	}
	want := badRun(t, badRecords(t, nil), -1)
	if len(want.failures) > 0 {
		t.Fatalf("without a bad sample: %s", strings.Join(want.failures, "\n"))
	}
	var names []string
	for _, e := range want.events {
		names = append(names, badName(e))
	}
	t.Logf("without a bad sample: %d events: %s", len(want.events), strings.Join(names, "; "))

	type probe struct {
		name         string
		metric, keys string
		edit         func(tick int, s *schemas.Sample)
		tick         int // of the bad sample, if not badAt
	}
	atTick := func(tick int, f func(s *schemas.Sample)) func(int, *schemas.Sample) {
		return func(i int, s *schemas.Sample) {
			if i == tick {
				f(s)
			}
		}
	}
	at := func(f func(s *schemas.Sample)) func(int, *schemas.Sample) { return atTick(badAt, f) }
	var probes []probe
	gauges := []struct{ name, metric, keys string }{
		{"rx power", schemas.MetricOpticInputPower, badOptic},
		{"laser bias", schemas.MetricOpticLaserBias, badOptic},
		{"optic temperature", schemas.MetricTemperature, badOptic},
		{"fan speed", schemas.MetricFanSpeed, "name=Fan1"},
		{"cpu temperature", schemas.MetricTemperature, "name=CPU"},
		{"psu output-power", schemas.MetricPSUOutPower, "name=PSU1"},
		{"psu input-current", schemas.MetricPSUInCurrent, "name=PSU1"},
	}
	values := []struct {
		name string
		f    func(float64) float64
	}{
		{"NaN", func(float64) float64 { return math.NaN() }},
		{"+Inf", func(float64) float64 { return math.Inf(1) }},
		{"-Inf", func(float64) float64 { return math.Inf(-1) }},
		{"-0", func(float64) float64 { return math.Copysign(0, -1) }},
		{"0", func(float64) float64 { return 0 }},
		{"negative", func(v float64) float64 { return -math.Abs(v) - 1 }},
		{"-40", func(float64) float64 { return -40 }},
		{"1e300", func(float64) float64 { return 1e300 }},
		{"MaxFloat64", func(float64) float64 { return math.MaxFloat64 }},
		{"x1000", func(v float64) float64 { return v * 1e3 }},
		{"x0.001", func(v float64) float64 { return v * 1e-3 }},
	}
	for _, g := range gauges {
		for _, v := range values {
			probes = append(probes, probe{name: g.name + " " + v.name, metric: g.metric, keys: g.keys,
				edit: at(func(s *schemas.Sample) { s.F64 = v.f(s.F64) })})
		}
	}
	var last uint64 // the counter at badAt-1
	probes = append(probes,
		probe{name: "fcs one sample 0", metric: schemas.MetricInFCSErrors, keys: "name=Ethernet2", edit: at(func(s *schemas.Sample) { s.U64 = 0 })},
		probe{name: "fcs one sample 2^64-1", metric: schemas.MetricInFCSErrors, keys: "name=Ethernet2", edit: at(func(s *schemas.Sample) { s.U64 = math.MaxUint64 })},
		probe{name: "fcs reset", metric: schemas.MetricInFCSErrors, keys: "name=Ethernet2", edit: func(i int, s *schemas.Sample) {
			if i == badAt-1 {
				last = s.U64
			}
			if i >= badAt {
				s.U64 -= last
			}
		}},
		// Counting from 2^64 - the count at badAt, it wraps at badAt.
		probe{name: "fcs wraps past 2^64", metric: schemas.MetricInFCSErrors, keys: "name=Ethernet2", edit: func(i int, s *schemas.Sample) {
			if i == badAt-1 {
				last = s.U64 + 1
			}
			if i >= badAt-1 {
				s.U64 -= last + 30 // from badAt-1 on; the first is 2^64-31
			}
		}},
	)
	for _, th := range []struct {
		name, metric string
		v            float64
	}{
		{"rx lower threshold NaN", schemas.MetricThresholdInPowerLower, math.NaN()},
		{"rx lower threshold inverted", schemas.MetricThresholdInPowerLower, badRxUpper},
		{"bias upper threshold NaN", schemas.MetricThresholdBiasUpper, math.NaN()},
		{"bias upper threshold inverted", schemas.MetricThresholdBiasUpper, badBiasLower},
	} {
		probes = append(probes, probe{name: th.name, metric: th.metric, keys: badOptic + ",severity=CRITICAL",
			edit: at(func(s *schemas.Sample) { s.F64 = th.v })})
	}
	// While the rx power case is open (from minute 85), at a bucket's
	// first reading.
	probes = append(probes, probe{name: "rx lower threshold inverted in a case", metric: schemas.MetricThresholdInPowerLower, keys: badOptic + ",severity=CRITICAL",
		edit: atTick(95, func(s *schemas.Sample) { s.F64 = badRxUpper }), tick: 95})

	for _, pr := range probes {
		t.Run(pr.name, func(t *testing.T) {
			got := badRun(t, badRecords(t, func(i int, s *schemas.Sample) {
				if s.Device == badDevice && s.Metric == pr.metric && s.Keys == pr.keys {
					pr.edit(i, s)
				}
			}), 2*cmp.Or(pr.tick, badAt)+1) // right after sim-00's and sim-01's records of the bad sample's tick
			for _, f := range got.failures {
				t.Error(f)
			}
			for _, e := range got.events {
				if err := badEventErr(e); err != nil {
					t.Errorf("%s: %v", badName(e), err)
				}
			}
			gn, wn := make([]string, len(got.events)), make([]string, len(want.events))
			for i, e := range got.events {
				gn[i] = badName(e)
			}
			for i, e := range want.events {
				wn[i] = badName(e)
			}
			if !slices.Equal(gn, wn) {
				t.Errorf("events\n%s\nwant\n%s", strings.Join(gn, "\n"), strings.Join(wn, "\n"))
				return
			}
			for i, e := range got.events {
				w := want.events[i]
				if e.PredictedFailure.Sub(w.PredictedFailure).Abs() > 5*time.Minute {
					t.Errorf("%s: predicted failure %v, want %v", badName(e), e.PredictedFailure, w.PredictedFailure)
				}
			}
		})
	}
}
