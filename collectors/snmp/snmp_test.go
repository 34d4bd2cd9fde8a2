package snmp

import (
	"context"
	"maps"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/schemas"
)

func TestCounterWrapAndReset(t *testing.T) {
	type step struct {
		raw    uint64
		bits   int
		discon bool
		want   uint64
		out    outcome
	}
	f := func(name string, steps ...step) {
		t.Helper()
		var c counter
		for i, s := range steps {
			got, o := c.update(s.raw, s.bits, s.discon)
			if o != s.out || (o != rebaselined && got != s.want) {
				t.Fatalf("%s: step %d: got (%d, %v), want (%d, %v)", name, i, got, o, s.want, s.out)
			}
		}
	}
	const max32 = 1<<32 - 1
	f("monotonic", step{100, 64, false, 100, publishValue}, step{150, 64, false, 150, publishValue})
	// A 32-bit counter wraps: the published value goes on.
	f("wrap", step{max32 - 10, 32, false, max32 - 10, publishValue}, step{5, 32, false, max32 + 6, wrapped},
		step{25, 32, false, max32 + 26, publishValue})
	// An agent restart: no sample at the restart, then the series goes on
	// from where it was by the increase since the new baseline: no spike.
	f("restart", step{1e9, 64, false, 1e9, publishValue}, step{2e9, 64, true, 0, rebaselined},
		step{2e9 + 500, 64, false, 1e9 + 500, publishValue})
	// A restart where the counter comes back lower, on a 32-bit counter:
	// not mistaken for a wrap.
	f("restart32", step{4e9, 32, false, 4e9, publishValue}, step{10, 32, true, 0, rebaselined},
		step{30, 32, false, 4e9 + 20, publishValue})
	// A 64-bit counter that goes down without a restart is a reset too.
	f("decrease64", step{1000, 64, false, 1000, publishValue}, step{10, 64, false, 0, rebaselined},
		step{40, 64, false, 1030, publishValue})
}

func TestSensorScaleAndMapping(t *testing.T) {
	f := func(raw int64, scale, prec int, want float64) {
		t.Helper()
		if got := sensorValue(raw, scale, prec); math.Abs(got-want) > 1e-12 {
			t.Fatalf("sensorValue(%d, %d, %d) = %v, want %v", raw, scale, prec, got, want)
		}
	}
	f(453, 9, 1, 45.3)     // celsius, units, one decimal
	f(1234, 8, 0, 1.234)   // milliamperes
	f(23012, 9, 2, 230.12) // volts, two decimals
	f(5, 10, 0, 5000)      // kilo
	f(-35, 9, 1, -3.5)
	m := func(stype int, name string, class int, parent string, pclass int, wantM, wantK string) {
		t.Helper()
		gm, gk := sensorMetric(stype, name, class, parent, pclass)
		if gm != wantM || gk != wantK {
			t.Fatalf("sensorMetric(%d, %s): got %s %s, want %s %s", stype, name, gm, gk, wantM, wantK)
		}
	}
	m(8, "CPU", 12, "", 0, schemas.MetricTemperature, "name=CPU")
	m(10, "Fan1", 7, "", 0, schemas.MetricFanSpeed, "name=Fan1")
	m(10, "Fan1 sensor", 8, "Fan1", 7, schemas.MetricFanSpeed, "name=Fan1")
	m(6, "PSU1 output", 8, "PSU1", 6, schemas.MetricPSUOutPower, "name=PSU1")
	m(3, "PSU1 input voltage", 8, "PSU1", 6, schemas.MetricPSUInVoltage, "name=PSU1")
	m(5, "PSU1 input current", 8, "PSU1", 6, schemas.MetricPSUInCurrent, "name=PSU1")
	m(4, "Board 3V3", 8, "Board", 9, schemas.MetricSNMPSensorPrefix+"volts_dc", "name=Board 3V3")
}

// simAgent serves a stepped fleet over SNMP.
func simAgent(t *testing.T, devices int) (*agent.Agent, *agent.SNMP) {
	t.Helper()
	return simAgentOf(t, sim.Config{Devices: devices, Interfaces: 3, Start: time.Now().Add(-time.Hour), Faults: []sim.Fault{}})
}

// simAgentOf serves a fleet of cfg over SNMP.
func simAgentOf(t *testing.T, cfg sim.Config) (*agent.Agent, *agent.SNMP) {
	t.Helper()
	f, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{}, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	s, err := a.ServeSNMP("127.0.0.1:0", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return a, s
}

func pollSamples(t *testing.T, tg Target, st *state) []schemas.Sample {
	t.Helper()
	tg = tg.inherit(Target{})
	if err := tg.validate(); err != nil {
		t.Fatal(err)
	}
	b := publish.NewBatch(memory.NewGoAllocator(), tg.Name, schemas.SourceSNMP)
	defer b.Release()
	if _, err := poll(context.Background(), tg, st, b); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	if rec == nil {
		return nil
	}
	defer rec.Release()
	out, err := schemas.Samples(rec)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPollSimulatedAgent polls the simulator's SNMP agent and finds the
// fleet's values under the gNMI metric names, scaled sensors included.
func TestPollSimulatedAgent(t *testing.T) {
	a, s := simAgent(t, 2)
	t.Setenv("TK_TEST_COMMUNITY", "sim-01")
	for range 2 {
		if _, err := a.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// The fleet's values of sim-01 at the last step.
	twin, _ := sim.New(a.Fleet().Config())
	want := map[schemas.SeriesKey]schemas.Sample{}
	for range 2 {
		twin.Next(func(s *schemas.Sample) {
			if s.Device == "sim-01" {
				want[schemas.SeriesKey{Metric: s.Metric, Keys: s.Keys}] = *s
			}
		})
	}
	var st state
	got := pollSamples(t, Target{Name: "sim-01", Address: s.Addr(), Community: secret.Source{Env: "TK_TEST_COMMUNITY"}}, &st)
	if len(got) == 0 {
		t.Fatal("no samples")
	}
	matched := 0
	for _, g := range got {
		if m, ok := schemas.LookupMetric(g.Metric); !ok || m.Kind != g.Kind {
			t.Errorf("%s: published as a %v; the vocabulary has %v (found: %v)", g.Metric, g.Kind, m.Kind, ok)
		}
		w, ok := want[schemas.SeriesKey{Metric: g.Metric, Keys: g.Keys}]
		if !ok {
			continue
		}
		matched++
		switch w.Kind {
		case schemas.KindCounter:
			if g.U64 != w.U64 {
				t.Errorf("%s %s: %d, want %d", g.Metric, g.Keys, g.U64, w.U64)
			}
		case schemas.KindGauge:
			if math.Abs(g.F64-w.F64) > 1e-9 {
				t.Errorf("%s %s: %v, want %v", g.Metric, g.Keys, g.F64, w.F64)
			}
		default:
			if g.Str != w.Str {
				t.Errorf("%s %s: %q, want %q", g.Metric, g.Keys, g.Str, w.Str)
			}
		}
	}
	// Every series of the fleet is there: counters, oper-status, two
	// temperatures, two fans, and the PSUs' three values each.
	if matched != len(want) {
		t.Fatalf("matched %d of the fleet's %d series", matched, len(want))
	}
	// Each interface's admin-status (ifAdminStatus) comes with its
	// oper-status: without it a port shut would be a link down.
	admin, oper := map[string]string{}, 0
	for _, g := range got {
		switch g.Metric {
		case schemas.MetricAdminStatus:
			admin[g.Keys] = g.Str
		case schemas.MetricOperStatus:
			oper++
		}
	}
	if len(admin) != oper || oper == 0 {
		t.Errorf("%d admin-status samples (%v) for %d interfaces' oper-status", len(admin), admin, oper)
	}
	for k, v := range admin {
		if v != "UP" {
			t.Errorf("%s admin-status %q, want UP", k, v)
		}
	}

	// An agent restart (sysUpTime back) re-baselines: no counter samples,
	// one discontinuity mark; the next poll goes on smoothly.
	st.uptime = math.MaxUint32
	got = pollSamples(t, Target{Name: "sim-01", Address: s.Addr(), Community: secret.Source{Env: "TK_TEST_COMMUNITY"}}, &st)
	marks, counters := 0, 0
	for _, g := range got {
		if g.Metric == schemas.MetricSNMPDiscontinuity && g.Str == DiscontinuityRestart {
			marks++
		}
		if g.Kind == schemas.KindCounter {
			counters++
		}
	}
	if marks != 1 || counters != 0 {
		t.Fatalf("after a restart: %d marks and %d counter samples", marks, counters)
	}
}

// TestPollBGP polls a leaf/spine fleet's BGP4-MIB peers during a BGP
// reset: each session's state arrives under the gNMI collector's path and
// keys.
func TestPollBGP(t *testing.T) {
	a, s := simAgentOf(t, sim.Config{Devices: 5, Interfaces: 3, Start: time.Now().Add(-time.Hour), Topology: sim.Topology{Spines: 2},
		Faults: []sim.Fault{{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultBGPReset, After: 10 * time.Second, Duration: 2 * time.Minute}}})
	for range 2 {
		if _, err := a.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TK_TEST_COMMUNITY", "sim-02")
	got := pollSamples(t, Target{Name: "sim-02", Address: s.Addr(), Community: secret.Source{Env: "TK_TEST_COMMUNITY"}, MIBs: []string{MIBBGP}}, &state{})
	states := map[string]string{}
	for _, g := range got {
		if g.Metric != schemas.MetricBGPSessionState || g.Kind != schemas.KindState {
			t.Fatalf("sample %+v: want BGP session states only", g)
		}
		states[g.Keys] = g.Str
	}
	l := a.Fleet().Links()
	want := map[string]string{}
	for _, lk := range l {
		if lk.B.Device == "sim-02" {
			want[BGPKeys+",neighbor-address="+lk.A.Address] = map[bool]string{true: "IDLE", false: "ESTABLISHED"}[lk.B.Interface == "Ethernet1"]
		}
	}
	if len(want) != 2 || !maps.Equal(states, want) {
		t.Fatalf("BGP states %v, want %v", states, want)
	}
}

// TestInvalidUTF8NamesRepaired: an interface and a sensor whose names are
// not UTF-8 are published with U+FFFD in their keys and counted, and their
// values are kept.
func TestInvalidUTF8NamesRepaired(t *testing.T) {
	tab := table{
		colIfName:           {"1": {Type: gosnmp.OctetString, Value: []byte("eth\xff0")}},
		oidIfXEntry + ".6":  {"1": {Type: gosnmp.Counter64, Value: uint64(5)}},
		oidEntSensor + ".1": {"7": {Type: gosnmp.Integer, Value: 8}},
		oidEntSensor + ".4": {"7": {Type: gosnmp.Integer, Value: 41}},
		oidEntPhys + ".7":   {"7": {Type: gosnmp.OctetString, Value: []byte("cpu\xfe")}},
		oidEntSensor + ".5": {"7": {Type: gosnmp.Integer, Value: 1}},
		oidEntSensor + ".2": {"7": {Type: gosnmp.Integer, Value: 9}},
		oidEntSensor + ".3": {"7": {Type: gosnmp.Integer, Value: 0}},
		oidEntPhys + ".5":   {"7": {Type: gosnmp.Integer, Value: 1}},
		oidEntPhys + ".4":   {"7": {Type: gosnmp.Integer, Value: 0}},
	}
	b := publish.NewBatch(memory.NewGoAllocator(), "dev", schemas.SourceSNMP)
	defer b.Release()
	var res pollResult
	st := &state{counters: map[string]*counter{}, discon: map[string]uint64{}}
	n := appendInterfaces(tab, 1, false, st, b, &res) + appendSensors(tab, 1, b, &res)
	rec := b.NewRecord()
	defer rec.Release()
	got, err := schemas.Samples(rec)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || len(got) != 2 || res.repaired != 2 {
		t.Fatalf("%d samples, %d repaired: %+v", len(got), res.repaired, got)
	}
	for _, s := range got {
		if s.Keys != "name=eth\uFFFD0" && s.Keys != "name=cpu\uFFFD" {
			t.Fatalf("keys not repaired: %+v", s)
		}
	}
}
