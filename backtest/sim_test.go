package backtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// fabric is a leaf/spine fleet of 6 devices (sim-00, sim-01 spines; sim-02
// … sim-05 leaves) with power mode and transceivers, as `telekernel run`
// simulates it, and the given faults.
func fabric(faults ...sim.Fault) sim.Config {
	return sim.Config{Devices: 6, Interfaces: 4, Topology: sim.Topology{Spines: 2}, Power: true, Transceivers: true,
		Faults: append([]sim.Fault{}, faults...)}
}

// TestSimSource checks that OpenSim yields every tick of the span once,
// device by device, each series in time order, with the fleet's samples
// plus a derived input power per PSU, PSU values as float32 carries them.
func TestSimSource(t *testing.T) {
	cfg := fabric()
	span := 100 * time.Minute // 600 ticks: more than one batch of ticks
	src, err := OpenSim(cfg, span)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	twin, _ := sim.New(SimConfig(cfg))
	perTick := twin.SamplesPerTick() + 2*6 // + input power of 2 PSUs per device
	last := map[schemas.SeriesKey]int64{}
	n, ticks := 0, map[int64]bool{}
	for {
		b, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			s := &b[i]
			if s.Device != b[0].Device {
				t.Fatalf("a batch mixes %s and %s", b[0].Device, s.Device)
			}
			k := s.Series()
			if prev, ok := last[k]; ok && s.TS <= prev {
				t.Fatalf("%v: ts %d after %d", k, s.TS, prev)
			}
			last[k] = s.TS
			ticks[s.TS] = true
			if strings.Contains(s.Metric, "/power-supply/") && s.F64 != float64(float32(s.F64)) && s.F64 != viaFloat32(s.F64) {
				t.Fatalf("%v: %v is not a float32 value", k, s.F64)
			}
		}
		n += len(b)
	}
	if want := 600 * perTick; n != want || len(ticks) != 600 {
		t.Errorf("%d samples in %d ticks, want %d in 600", n, len(ticks), want)
	}
	if _, ok := last[schemas.SeriesKey{Device: "sim-03", Metric: schemas.MetricPSUInPower, Keys: "name=PSU2"}]; !ok {
		t.Error("no derived input power for sim-03 PSU2")
	}
}

// TestSimGroundTruth checks the events and roles the simulator's labels
// give each kind, and which of them the score requires, excuses or keeps
// as false incidents.
func TestSimGroundTruth(t *testing.T) {
	cfg := fabric(
		sim.Fault{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: time.Hour, Duration: 5 * time.Minute},
		sim.Fault{Device: "sim-03", Interface: "Ethernet2", Kind: sim.FaultReroute, After: 2 * time.Hour, Duration: 10 * time.Minute},
		sim.Fault{Device: "sim-04", Component: "Fan1", Kind: sim.FaultFanFailure, After: 3 * time.Hour, Duration: time.Hour, Precursor: time.Hour},
		sim.Fault{Device: "sim-05", Interface: "Ethernet3", Kind: sim.FaultCounterReset, After: 4 * time.Hour},
		sim.Fault{Device: "sim-05", Interface: "Ethernet4", Kind: sim.FaultOpticDegradation, After: 5 * time.Hour, Duration: time.Hour},
	)
	truth, err := SimGroundTruth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range truth.Events {
		got = append(got, e.Device+" "+e.Kind+" "+e.Role)
	}
	want := []string{
		"sim-02 link_down device", "sim-00 link_down peer", // the leaf's uplink Ethernet1 goes to spine sim-00
		"sim-03 reroute device", "sim-01 reroute peer", "sim-00 reroute effect", // traffic moves to the uplink to sim-00
		"sim-04 fan_failure device", "sim-04 fan_failure precursor",
		"sim-05 counter_reset device",
		"sim-05 optic_degradation device",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p := truth.Events[6]; !p.End.Equal(truth.Events[5].Start) || p.End.Sub(p.Start) != time.Hour {
		t.Errorf("precursor %v … %v, want the hour before the failure at %v", p.Start, p.End, truth.Events[5].Start)
	}
	events, quiet := truth.Scoring()
	kinds := func(evs []Event) (out []string) {
		for _, e := range evs {
			out = append(out, e.Device+" "+e.Kind)
		}
		return out
	}
	if got, want := kinds(events), []string{"sim-02 link_down", "sim-00 link_down", "sim-03 reroute", "sim-01 reroute", "sim-04 fan_failure", "sim-05 optic_degradation"}; !slices.Equal(got, want) {
		t.Errorf("scored events %v, want %v", got, want)
	}
	// The counter reset is in neither: a detection there is false.
	if got, want := kinds(quiet), []string{"sim-00 reroute", "sim-04 fan_failure"}; !slices.Equal(got, want) {
		t.Errorf("quiet windows %v, want %v", got, want)
	}
}

// TestSimLabelsFileMatchesGroundTruth: `telekernel eval --format sim
// --labels labels.jsonl` scores the simulator's own labels file, which has
// a row per series a fault affects (a traffic_spike's in-octets and
// in-unicast-pkts, a link_down's counters and states at both ends).
// ReadLabels makes the rows of one device and fault one event, so the file
// gives the events of SimGroundTruth (precursors aside, which no row
// names) and one detection detects one event; before 2026-12-07 each row
// was an event, a traffic_spike two and a link_down 16. (A reroute is left
// out: its rows name the failed uplink as a link_down and the rerouted
// traffic as a reroute, two kinds on the faulted device, where the ground
// truth has one event.)
func TestSimLabelsFileMatchesGroundTruth(t *testing.T) {
	cfg := SimConfig(fabric(
		sim.Fault{Device: "sim-03", Interface: "Ethernet3", Kind: sim.FaultTrafficSpike, After: time.Hour, Duration: 10 * time.Minute},
		sim.Fault{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: 2 * time.Hour, Duration: 5 * time.Minute},
		sim.Fault{Device: "sim-03", Interface: "Ethernet2", Kind: sim.FaultBGPReset, After: 3 * time.Hour, Duration: 10 * time.Minute},
		sim.Fault{Device: "sim-04", Component: "Fan1", Kind: sim.FaultFanFailure, After: 4 * time.Hour, Duration: time.Hour, Precursor: time.Hour},
		sim.Fault{Device: "sim-05", Interface: "Ethernet2", Kind: sim.FaultOpticDegradation, After: 5 * time.Hour, Duration: time.Hour},
	))
	f, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for _, l := range f.Labels() {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	events, err := ReadLabels(writeFile(t, "labels.jsonl", b.String()))
	if err != nil {
		t.Fatal(err)
	}
	truth, err := SimGroundTruth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	name := func(e Event) string {
		return fmt.Sprintf("%s %s %s %s…%s", e.Device, e.Kind, e.Keys, e.Start.Format(time.TimeOnly), e.End.Format(time.TimeOnly))
	}
	var got, want []string
	for _, e := range events {
		got = append(got, name(e))
	}
	for _, e := range truth.Events {
		if e.Role != RolePrecursor {
			want = append(want, name(e.Event))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%d rows give %d events\n%s\nwant the ground truth's %d\n%s", strings.Count(b.String(), "\n"), len(got),
			strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
	// One detection on the spiking interface detects one event.
	spike := truth.Faults[0]
	dets := []schemas.Detection{{Device: spike.Device, Metric: schemas.MetricInOctets, Keys: "name=" + spike.Interface, State: schemas.StateFiring,
		EventTime: cfg.Start.Add(spike.After + 10*time.Second), Detector: "robust_z"}}
	exp := map[string]Exposure{}
	for i := range 6 {
		exp[fmt.Sprintf("sim-%02d", i)] = Exposure{Hours: 6}
	}
	fromFile := Score(events, dets, exp, Scoring{})
	gt, _ := truth.Scoring()
	fromTruth := Score(gt, dets, exp, Scoring{})
	if fromFile.Detected != 1 || fromTruth.Detected != 1 {
		t.Errorf("one detection of the traffic_spike: %d events detected from labels.jsonl, %d from the ground truth, want 1 and 1", fromFile.Detected, fromTruth.Detected)
	}
}

// TestScoreSim scores detections against a ground truth: required kinds
// detected or missed, a silent kind fired on (a false incident), an
// other-stage kind reported, effects and peers counted, and false incidents
// per 100 device-hours outside the quiet windows.
func TestScoreSim(t *testing.T) {
	cfg := fabric(
		sim.Fault{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: time.Hour, Duration: 5 * time.Minute},
		sim.Fault{Device: "sim-03", Interface: "Ethernet2", Kind: sim.FaultReroute, After: 2 * time.Hour, Duration: 10 * time.Minute},
		sim.Fault{Device: "sim-05", Interface: "Ethernet3", Kind: sim.FaultCounterReset, After: 4 * time.Hour},
		sim.Fault{Device: "sim-05", Interface: "Ethernet4", Kind: sim.FaultOpticDegradation, After: 5 * time.Hour, Duration: time.Hour},
	)
	cfg.Start = t0
	truth, err := SimGroundTruth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := 3600.0
	dets := []schemas.Detection{
		fire("sim-02", h+10, "oper-status"),    // link_down on the leaf, +10 s
		fire("sim-00", 2*h+30, "in-octets"),    // reroute's effect on spine sim-00: quiet
		fire("sim-05", 4*h+20, "in-octets"),    // the counter reset: false
		fire("sim-05", 5*h+600, "input-power"), // the optic: the drift rule's, required
		fire("sim-04", 7*h, "temperature"),     // nothing there: false
	}
	exp := map[string]Exposure{}
	for i := range 6 {
		exp[sim.DeviceName(i)] = Exposure{Hours: 10, Interval: 10 * time.Second}
	}
	events, quiet := truth.Scoring()
	sc := Scoring{Quiet: quiet}
	r := Score(events, dets, exp, sc)
	s := ScoreSim(truth, dets, exp, sc, &r)
	byKind := map[string]KindResult{}
	for _, k := range s.Kinds {
		byKind[k.Kind] = k
	}
	check := func(kind string, detected, peers, peersDetected int, ok bool) {
		t.Helper()
		k := byKind[kind]
		if k.Detected != detected || k.Peers != peers || k.PeersDetected != peersDetected || k.OK != ok {
			t.Errorf("%s: %+v, want detected %d, peers %d/%d, ok %v", kind, k, detected, peersDetected, peers, ok)
		}
	}
	check(sim.FaultLinkDown, 1, 1, 0, true)
	check(sim.FaultReroute, 0, 1, 0, false)
	check(sim.FaultCounterReset, 1, 0, 0, false)
	check(sim.FaultOpticDegradation, 1, 0, 0, true)
	if lat := byKind[sim.FaultLinkDown].MedianLatency; lat != 10*time.Second {
		t.Errorf("link_down latency %v, want 10s", lat)
	}
	if f := s.Faults[1]; f.Effects != 1 || f.EffectsDetected != 1 {
		t.Errorf("reroute effects %d/%d, want 1/1", f.EffectsDetected, f.Effects)
	}
	if s.Required != 3 || s.RequiredDetected != 2 {
		t.Errorf("required %d/%d, want 2/3", s.RequiredDetected, s.Required)
	}
	if s.FalseIncidents != 2 || s.DeviceHours != 60 || s.FalsePer100DeviceHours != 100*2.0/60 {
		t.Errorf("false incidents %d in %v device-hours (%v per 100), want 2 in 60", s.FalseIncidents, s.DeviceHours, s.FalsePer100DeviceHours)
	}
}

// TestScoreSimOutsideData checks that faults after the replayed data are
// marked outside it and left out of every count: replayed for 90 minutes,
// the link_down at 1 h is scored (and missed), the reroute at 2 h and the
// later faults are not; the reroute's kind says so instead of MISSED.
func TestScoreSimOutsideData(t *testing.T) {
	cfg := fabric(
		sim.Fault{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: time.Hour, Duration: 5 * time.Minute},
		sim.Fault{Device: "sim-03", Interface: "Ethernet2", Kind: sim.FaultReroute, After: 2 * time.Hour, Duration: 10 * time.Minute},
		sim.Fault{Device: "sim-05", Interface: "Ethernet3", Kind: sim.FaultCounterReset, After: 4 * time.Hour},
	)
	cfg.Start = t0
	truth, err := SimGroundTruth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := Stats{Devices: map[string]Span{}}
	exp := map[string]Exposure{}
	for i := range 6 {
		st.Devices[sim.DeviceName(i)] = Span{First: t0.UnixNano(), Last: sec(90 * 60).UnixNano(), Steps: 540}
		exp[sim.DeviceName(i)] = Exposure{Hours: 1.5, Interval: 10 * time.Second}
	}
	events, quiet := truth.Scoring()
	sc := Scoring{Quiet: quiet, Data: CoverageOf(st)}
	r := Score(events, nil, exp, sc)
	s := ScoreSim(truth, nil, exp, sc, &r)
	if got := []bool{s.Faults[0].Outside, s.Faults[1].Outside, s.Faults[2].Outside}; !slices.Equal(got, []bool{false, true, true}) {
		t.Errorf("outside %v, want [false true true]", got)
	}
	if s.Required != 1 || s.RequiredDetected != 0 || s.Outside != 1 {
		t.Errorf("required %d/%d, %d outside; want 0/1 and 1 outside (the reroute)", s.RequiredDetected, s.Required, s.Outside)
	}
	if len(r.Events) != 2 || r.Missed != 2 || len(r.Outside) != 2 {
		t.Errorf("report: %d events, %d missed, %d outside; want the link_down's 2 scored and missed, the reroute's 2 outside", len(r.Events), r.Missed, len(r.Outside))
	}
	for _, k := range s.Kinds {
		if k.Kind == sim.FaultReroute && (k.Faults != 0 || k.Outside != 1 || !k.OK || kindCell(&k) != "outside the data") {
			t.Errorf("reroute %+v (%q), want no fault scored, 1 outside the data", k, kindCell(&k))
		}
	}
	if c := faultCell(&s.Faults[1]); c != "outside the data" {
		t.Errorf("reroute's cell %q, want outside the data", c)
	}
}
