package detect

import (
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
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// Bad-value probes: the fleet's ticks (10 s), the tick of the bad sample,
// and the device it is of.
const (
	badTicks  = 1260 // 3 h 30 min
	badAt     = 540  // 1 h 30 min in: the ensembles are warm
	badDevice = "sim-00"
	// badPeerTicks is how far the sibling rule's transitions may move
	// when a reading of the group is lost: its round is skipped, and the
	// rule's warm-up and means are one round behind from then on (the
	// fan's alert fires 10 s later and resolves 20 s sooner, 70 minutes
	// on; a PSU's resolves 20 s later).
	badPeerTicks = 3
)

// badFaults are the faults after the bad sample, on its device, which
// each probe's run must see as the run without it does: frame errors, a
// traffic spike and an optic's decay on the probed interface, a PSU and a
// fan failing.
var badFaults = []sim.Fault{
	{Device: badDevice, Interface: "Ethernet2", Kind: sim.FaultRxErrors, After: 100 * time.Minute, Duration: 10 * time.Minute, Factor: 500},
	{Device: badDevice, Interface: "Ethernet2", Kind: sim.FaultTrafficSpike, After: 120 * time.Minute, Duration: 10 * time.Minute},
	{Device: badDevice, Component: "PSU1", Kind: sim.FaultPSUDegradation, After: 140 * time.Minute, Duration: 15 * time.Minute},
	{Device: badDevice, Component: "Fan1", Kind: sim.FaultFanFailure, After: 160 * time.Minute, Duration: 10 * time.Minute},
	{Device: badDevice, Interface: "Ethernet2", Kind: sim.FaultOpticDegradation, After: 180 * time.Minute, Duration: 20 * time.Minute},
}

// badErrors is what every error counter of the probes' fleet has counted
// before it starts: months of a few errors a day.
const badErrors = 1e6

// badCfg adds multivariate groups of an interface's traffic and of a
// power supply's input to the defaults, so that a bad value meets them
// too.
func badCfg() Config {
	return Config{Multivar: MultivarConfig{Groups: []MultivarGroup{
		{Name: "interface-traffic", Metrics: []string{schemas.MetricInOctets, schemas.MetricOutOctets}},
		{Name: "psu-input", Metrics: []string{schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent}},
	}}}
}

// badRecords returns the probes' fleet, two devices with power and
// transceivers (their error counters from badErrors), one record per
// device and tick, with edit applied to a copy of each sample (nil:
// none; a sample whose device it clears is dropped).
func badRecords(t *testing.T, edit func(tick int, s *schemas.Sample)) []*kgo.Record {
	t.Helper()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	fleet, err := sim.New(sim.Config{Devices: 2, Interfaces: 4, Start: start, Power: true, Transceivers: true, Faults: badFaults})
	if err != nil {
		t.Fatal(err)
	}
	hs := kafka.RecordHeaders(schemas.SamplesHeaders())
	var recs []*kgo.Record
	for i := range badTicks {
		builders := map[string]*schemas.SampleBuilder{}
		fleet.Next(func(s *schemas.Sample) {
			c := *s
			if c.Metric == schemas.MetricInErrors {
				c.U64 += badErrors
			}
			if edit != nil {
				edit(i, &c)
			}
			if c.Device == "" { // an edit dropped it
				return
			}
			b := builders[c.Device]
			if b == nil {
				b = schemas.NewSampleBuilder(memory.NewGoAllocator())
				builders[c.Device] = b
			}
			b.Append(&c)
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

// badOut is what a probe's run wrote: the detections and what went wrong
// (an error, a panic, a restore refused, a WARN line).
type badOut struct {
	dets     []*schemas.Detection
	failures []string
}

// badRun runs recs through a detect stage, checkpointing after every
// record into one changelog (the compacted topic), and carries on after
// record restoreAt (-1: none) with a new stage restored from it; at the
// end, the changelog is restored once more.
func badRun(t *testing.T, recs []*kgo.Record, restoreAt int) badOut {
	t.Helper()
	var logs strings.Builder
	newStage := func() pipeline.Processor {
		d, err := New(badCfg(), "out", pipeline.NewMetrics(prometheus.NewRegistry()),
			slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var out badOut
	out.failures = stagetest.Restoring(newStage, recs, restoreAt, func(_ int, o *kgo.Record) error {
		det, err := schemas.DecodeDetection(kafka.Headers(o), o.Value)
		if err == nil {
			out.dets = append(out.dets, det)
		}
		return err
	})
	out.failures = append(out.failures, stagetest.Warnings(logs.String())...)
	return out
}

// badDetErr reports a field of a detection no input may make: a score,
// observed, expected value or band edge that is not finite, or a score
// outside [0, 1].
func badDetErr(d *schemas.Detection) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"score", d.Score}, {"observed", d.Observed}, {"expected", d.Expected}, {"band lower", d.Band.Lower}, {"band upper", d.Band.Upper}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s %v", f.name, f.v)
		}
	}
	if !(d.Score >= 0 && d.Score <= 1) {
		return fmt.Errorf("score %v", d.Score)
	}
	for _, c := range d.Contributors {
		if !(c.Share >= 0 && c.Share <= 1) {
			return fmt.Errorf("contributor %s share %v", c.Metric, c.Share)
		}
	}
	return nil
}

// badTick returns the tick of a detection's event time.
func badTick(d *schemas.Detection) int {
	return int(d.EventTime.Sub(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) / (10 * time.Second))
}

// badKey names a detection's transition but for its time: its state,
// series and rule label (a rule's).
func badKey(d *schemas.Detection) string {
	m := d.Metric[strings.LastIndexByte(d.Metric, '/')+1:]
	return fmt.Sprintf("%s %s %s %s %s", d.State, d.Device, m, d.Keys, d.Labels["rule"])
}

// badName is badKey and the tick of its event time.
func badName(d *schemas.Detection) string { return fmt.Sprintf("%s@%d", badKey(d), badTick(d)) }

// badRel is how far a is from b, relative to the larger of their
// magnitudes and 1.
func badRel(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), 1)
}

// TestDetectBadValues probes the detect stage with one impossible or
// garbled sample of sim-00 at tick badAt of a warm fleet (1 h 30 min of
// samples; a multivariate group of a port's traffic and one of a PSU's
// input), with frame errors, a traffic spike and an optic's decay on the
// probed interface, a PSU and a fan failing after it: a gauge's NaN,
// ±Inf, -0, -40 (a loss of signal's dBm), ±1e300, ±1e150, 1e100, 1e20,
// MaxFloat64 or SmallestNonzeroFloat64, or the reading lost (fan, PSU
// input, output power, temperature, optic power and bias); a counter's
// one sample of 0 or of 2^64-1 (the count again on the next), a clear to
// 0, a repeat of an old value (in-octets; in-errors, at 10^6), a wrap
// past 2^64; a Counter32's one sample of 2^32-1 or 2^31 above (in-errors;
// in-unicast-pkts exported modulo 2^32, which wraps); a
// state's empty, garbled or miscased value (oper-status, admin-status).
// For each, the stage returns no error and does not panic, logs no WARN
// line, checkpoints state that restores right after the sample and at
// the end, emits no detection with a field that is not finite, and emits
// the run without it's detections (the same transitions at the same
// ticks, observed, expected and band within 1 %; the sibling rule's
// within badPeerTicks) but for the ensemble's alert of the bad sample's
// own series within a minute of it (a reading of 0 may fire, and
// resolves). Before, one 2^64-1 of in-octets (a rate of 1.8e18/s) left
// its ensemble and its group blind to the spike half an hour later, one 0
// or 2^64-1 of in-errors (taken for a reset, then the whole counter over
// 10 s) its ensemble to the errors; one PSU current of 0, ±1e300 or
// MaxFloat64 the group to the PSU's failure (1e300: for good); one optic
// power of -40 dBm or ±1e300 fired the drift rule ("left its envelope
// slowly") and made it learn its envelope again; one in-errors of 2^32-1
// or 2^31 above (a rate of up to 4.3e8/s) left its ensemble blind to
// the errors, one 2^32-1 of in-unicast-pkts exported as a Counter32 its
// ensemble to the spike.
func TestDetectBadValues(t *testing.T) {
	if testing.Short() {
		t.Skip("a hundred runs of 3.5 simulated hours")
	}
	want := badRun(t, badRecords(t, nil), -1)
	if len(want.failures) > 0 {
		t.Fatalf("without a bad sample: %s", strings.Join(want.failures, "\n"))
	}
	var names []string
	for _, d := range want.dets {
		names = append(names, badName(d))
	}
	t.Logf("without a bad sample: %d detections: %s", len(want.dets), strings.Join(names, "; "))

	type probe struct {
		name         string
		metric, keys string
		edit         func(tick int, s *schemas.Sample)
	}
	at := func(f func(s *schemas.Sample)) func(int, *schemas.Sample) {
		return func(i int, s *schemas.Sample) {
			if i == badAt {
				f(s)
			}
		}
	}
	var probes []probe
	gauges := []struct{ name, metric, keys string }{
		{"fan speed", schemas.MetricFanSpeed, "name=Fan2"},
		{"psu input-current", schemas.MetricPSUInCurrent, "name=PSU1"},
		{"psu input-voltage", schemas.MetricPSUInVoltage, "name=PSU2"},
		{"psu output-power", schemas.MetricPSUOutPower, "name=PSU1"},
		{"cpu temperature", schemas.MetricTemperature, "name=CPU"},
		{"optic input-power", schemas.MetricOpticInputPower, "name=Ethernet2-transceiver"},
		{"optic laser-bias", schemas.MetricOpticLaserBias, "name=Ethernet2-transceiver"},
	}
	values := []struct {
		name string
		v    float64
	}{{"NaN", math.NaN()}, {"+Inf", math.Inf(1)}, {"-Inf", math.Inf(-1)}, {"-0", math.Copysign(0, -1)},
		{"-40", -40}, {"1e300", 1e300}, {"-1e300", -1e300}, {"MaxFloat64", math.MaxFloat64}, {"SmallestNonzero", math.SmallestNonzeroFloat64},
		{"1e150", 1e150}, {"-1e150", -1e150}, {"1e100", 1e100}, {"1e20", 1e20}}
	for _, g := range gauges {
		for _, v := range values {
			probes = append(probes, probe{name: g.name + " " + v.name, metric: g.metric, keys: g.keys,
				edit: at(func(s *schemas.Sample) { s.F64 = v.v })})
		}
		// What a reading the stage drops is measured against.
		probes = append(probes, probe{name: g.name + " lost", metric: g.metric, keys: g.keys,
			edit: at(func(s *schemas.Sample) { s.Device = "" })})
	}
	var octets uint64 // sim-00 Ethernet2's in-octets at badAt
	for _, s := range []struct{ name, metric string }{{"in-octets", schemas.MetricInOctets}, {"in-errors", schemas.MetricInErrors}} {
		var old uint64 // the counter 30 ticks before badAt
		probes = append(probes,
			probe{name: s.name + " one sample 0", metric: s.metric, keys: "name=Ethernet2", edit: at(func(s *schemas.Sample) { s.U64 = 0 })},
			probe{name: s.name + " one sample 2^64-1", metric: s.metric, keys: "name=Ethernet2", edit: at(func(s *schemas.Sample) { s.U64 = math.MaxUint64 })},
			probe{name: s.name + " an old value again", metric: s.metric, keys: "name=Ethernet2", edit: func(i int, s *schemas.Sample) {
				switch i {
				case badAt - 30:
					old = s.U64
				case badAt:
					s.U64 = old
				}
			}},
			// Cleared at badAt, it counts on from 0.
			probe{name: s.name + " cleared", metric: s.metric, keys: "name=Ethernet2", edit: func(i int, s *schemas.Sample) {
				if i == badAt-1 {
					octets = s.U64
				}
				if i >= badAt {
					s.U64 -= octets
				}
			}},
		)
	}
	// A Counter32's -1 (2^32-1), or a value 2^31 or more above the last,
	// read once: on in-errors (SNMP's ifInErrors is a Counter32; the
	// probes' stay below 2^32), and on in-unicast-pkts exported as a
	// Counter32 (ifInUcastPkts: its count modulo 2^32, which wraps every
	// 13 minutes), which the stage takes through its wraps.
	high32 := func(s *schemas.Sample) { s.U64 = 1<<32 - 1 }
	above32 := func(s *schemas.Sample) { s.U64 = s.U64%(1<<32) + 1<<31 } // below 2^32 here
	probes = append(probes,
		probe{name: "in-errors one sample 2^32-1", metric: schemas.MetricInErrors, keys: "name=Ethernet2", edit: at(high32)},
		probe{name: "in-errors one sample 2^31 above", metric: schemas.MetricInErrors, keys: "name=Ethernet2", edit: at(above32)},
	)
	for _, bad := range []struct {
		name string
		edit func(*schemas.Sample)
	}{{"", nil}, {" one sample 2^32-1", high32}, {" one sample 2^31 above", above32}} {
		probes = append(probes, probe{name: "in-unicast-pkts as a Counter32" + bad.name, metric: schemas.MetricInUnicastPkts, keys: "name=Ethernet2",
			edit: func(i int, s *schemas.Sample) {
				s.U64 %= 1 << 32
				if i == badAt && bad.edit != nil {
					bad.edit(s)
				}
			}})
	}
	// Counting from 2^64 - in-octets at badAt, it wraps past 2^64 at
	// about badAt.
	var wrapAt uint64
	for _, s := range badRecordsSample(t, badAt, schemas.MetricInOctets, "name=Ethernet2") {
		wrapAt = s.U64
	}
	probes = append(probes, probe{name: "in-octets wraps past 2^64", metric: schemas.MetricInOctets, keys: "name=Ethernet2",
		edit: func(_ int, s *schemas.Sample) { s.U64 -= wrapAt }})
	for _, m := range []struct{ name, metric string }{{"oper-status", schemas.MetricOperStatus}, {"admin-status", schemas.MetricAdminStatus}} {
		for _, v := range []string{"", "\x7f", "UP ", " UP", "up", "Up", "uP", "DOWN\x00"} {
			probes = append(probes, probe{name: fmt.Sprintf("%s %q", m.name, v), metric: m.metric, keys: "name=Ethernet2",
				edit: at(func(s *schemas.Sample) { s.Str = v })})
		}
	}

	for _, pr := range probes {
		t.Run(pr.name, func(t *testing.T) {
			got := badRun(t, badRecords(t, func(i int, s *schemas.Sample) {
				if s.Device == badDevice && s.Metric == pr.metric && s.Keys == pr.keys {
					pr.edit(i, s)
				}
			}), 2*badAt+1) // right after sim-00's and sim-01's records of badAt
			for _, f := range got.failures {
				t.Error(f)
			}
			for _, d := range got.dets {
				if err := badDetErr(d); err != nil {
					t.Errorf("%s: %v", badName(d), err)
				}
			}
			// The bad sample's own series may fire and resolve within a
			// minute of it, its ensemble's alert (a rule's fires on no
			// one point); every other detection is the clean run's.
			own := func(d *schemas.Detection) bool {
				tick := badTick(d)
				return d.Device == badDevice && d.Metric == pr.metric && d.Keys == pr.keys && d.Labels["rule"] == "" && tick >= badAt && tick <= badAt+6
			}
			var g, w []*schemas.Detection
			for _, d := range got.dets {
				if !own(d) {
					g = append(g, d)
				}
			}
			for _, d := range want.dets {
				if !own(d) {
					w = append(w, d)
				}
			}
			// The transitions of each alert in order, and their ticks: the
			// sibling rule's within badPeerTicks (a reading it drops
			// skips the group's round, as one lost does), the others'
			// the same.
			byKey := func(ds []*schemas.Detection) []*schemas.Detection {
				return slices.SortedStableFunc(slices.Values(ds), func(a, b *schemas.Detection) int { return strings.Compare(badKey(a), badKey(b)) })
			}
			g, w = byKey(g), byKey(w)
			same := len(g) == len(w)
			for i := 0; same && i < len(g); i++ {
				d := badTick(g[i]) - badTick(w[i])
				same = badKey(g[i]) == badKey(w[i]) && (d == 0 || g[i].Labels["rule"] == PeerRule && d >= -badPeerTicks && d <= badPeerTicks)
			}
			if !same {
				gn, wn := make([]string, len(g)), make([]string, len(w))
				for i := range g {
					gn[i] = badName(g[i])
				}
				for i := range w {
					wn[i] = badName(w[i])
				}
				t.Errorf("detections\n%s\nwant\n%s", strings.Join(gn, "\n"), strings.Join(wn, "\n"))
				return
			}
			for i := range g {
				if badTick(g[i]) != badTick(w[i]) {
					continue
				}
				for _, f := range []struct {
					name string
					g, w float64
				}{{"observed", g[i].Observed, w[i].Observed}, {"expected", g[i].Expected, w[i].Expected},
					{"band lower", g[i].Band.Lower, w[i].Band.Lower}, {"band upper", g[i].Band.Upper, w[i].Band.Upper}} {
					if d := badRel(f.g, f.w); d > 0.01 {
						t.Errorf("%s: %s %.6g, want %.6g", badName(g[i]), f.name, f.g, f.w)
					}
				}
			}
			var mine []string
			open := map[string]bool{}
			for _, d := range got.dets {
				if own(d) {
					mine = append(mine, badName(d))
					open[d.Fingerprint] = d.State == schemas.StateFiring
				}
			}
			for f, firing := range open {
				if firing {
					t.Errorf("the bad sample's own alert %s still fires a minute after it", f)
				}
			}
			if len(mine) > 0 {
				t.Logf("the bad sample's own: %s", strings.Join(mine, "; "))
			}
		})
	}
}

// badRecordsSample returns the samples of sim-00's metric and keys at
// tick of the probes' fleet.
func badRecordsSample(t *testing.T, tick int, metric, keys string) []schemas.Sample {
	var out []schemas.Sample
	badRecords(t, func(i int, s *schemas.Sample) {
		if i == tick && s.Device == badDevice && s.Metric == metric && s.Keys == keys {
			out = append(out, *s)
		}
	})
	return out
}
