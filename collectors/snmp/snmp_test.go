package snmp

import (
	"context"
	"fmt"
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
	m(4, "PSU1 Output Voltage", 8, "PSU1", 6, schemas.MetricPSUOutVoltage, "name=PSU1")
	m(5, "PSU1 IOUT", 8, "PSU1", 6, schemas.MetricPSUOutCurrent, "name=PSU1")
	m(4, "PSU1 Voltage", 8, "PSU1", 6, schemas.MetricPSUInVoltage, "name=PSU1") // no side said: the input, as always
	m(6, "PSU1 Input Power", 8, "PSU1", 6, schemas.MetricSNMPSensorPrefix+"watts", "name=PSU1 Input Power")
	m(6, "PSU in slot 2 output power", 8, "PSU2", 6, schemas.MetricPSUOutPower, "name=PSU2")
	m(4, "Board 3V3", 8, "Board", 9, schemas.MetricSNMPSensorPrefix+"volts_dc", "name=Board 3V3")
}

// appendTable runs the append functions of a poll on tab and returns the
// samples.
func appendTable(t *testing.T, tab table, st *state, ts int64) []schemas.Sample {
	t.Helper()
	b := publish.NewBatch(memory.NewGoAllocator(), "dev", schemas.SourceSNMP)
	defer b.Release()
	var res pollResult
	appendInterfaces(tab, ts, false, st, b, &res)
	appendSensors(tab, ts, b, &res)
	rec := b.NewRecord()
	if rec == nil {
		return nil
	}
	defer rec.Release()
	got, err := schemas.Samples(rec)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPSUInputAndOutputSensors: a power supply with input and output
// sensors of one type (IOS-XR's "PM0 Input Voltage" volts_ac and "PM0
// Output Voltage" volts_dc, input and output current, all children of the
// powerSupply entity) publishes each under its own series: the output
// ones used to go out as the input's, two samples of one series at one
// time (230 V and 12 V), and the power model took either for the input.
func TestPSUInputAndOutputSensors(t *testing.T) {
	i := func(v int) gosnmp.SnmpPDU { return gosnmp.SnmpPDU{Type: gosnmp.Integer, Value: v} }
	s := func(v string) gosnmp.SnmpPDU { return gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte(v)} }
	tab := table{
		oidEntPhys + ".7":   {"10": s("PSU1"), "11": s("PSU1 Input Voltage"), "12": s("PSU1 Output Voltage"), "13": s("PSU1 Input Current"), "14": s("PSU1 Output Current")},
		oidEntPhys + ".5":   {"10": i(classPowerSupply), "11": i(8), "12": i(8), "13": i(8), "14": i(8)},
		oidEntPhys + ".4":   {"10": i(1), "11": i(10), "12": i(10), "13": i(10), "14": i(10)},
		oidEntSensor + ".1": {"11": i(3), "12": i(4), "13": i(5), "14": i(5)}, // volts_ac, volts_dc, amperes, amperes
		oidEntSensor + ".2": {"11": i(9), "12": i(9), "13": i(9), "14": i(9)},
		oidEntSensor + ".3": {"11": i(0), "12": i(0), "13": i(0), "14": i(0)},
		oidEntSensor + ".4": {"11": i(230), "12": i(12), "13": i(2), "14": i(35)},
		oidEntSensor + ".5": {"11": i(1), "12": i(1), "13": i(1), "14": i(1)},
	}
	got := map[string]float64{}
	for _, g := range appendTable(t, tab, &state{counters: map[string]*counter{}, discon: map[string]uint64{}}, 1) {
		if _, dup := got[g.Metric]; dup || g.Keys != "name=PSU1" {
			t.Errorf("%s %s = %v: a second sample of the series, or not the PSU's", g.Metric, g.Keys, g.F64)
		}
		got[g.Metric] = g.F64
	}
	want := map[string]float64{schemas.MetricPSUInVoltage: 230, schemas.MetricPSUOutVoltage: 12,
		schemas.MetricPSUInCurrent: 2, schemas.MetricPSUOutCurrent: 35}
	if !maps.Equal(got, want) {
		t.Errorf("PSU1's sensors: %v, want %v", got, want)
	}
}

// TestGoneInterfaceCounterState: the counter state of an interface that
// left ifTable is dropped at the next complete poll of IF-MIB. Kept, as it
// was, an interface back with its counters reset (a line card reinserted:
// no agent restart, no ifCounterDiscontinuityTime) was taken for a 32-bit
// wrap, ~4.3e9 errors that never happened; and a router whose interfaces
// come and go with a new ifIndex each time (tunnels, subscriber sessions)
// grew the state without bound.
func TestGoneInterfaceCounterState(t *testing.T) {
	iface := func(tab table, idx string, errs uint32) {
		if tab[colIfName] == nil {
			tab[colIfName], tab[oidIfEntry+".14"] = map[string]gosnmp.SnmpPDU{}, map[string]gosnmp.SnmpPDU{}
		}
		tab[colIfName][idx] = gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte("if" + idx)}
		tab[oidIfEntry+".14"][idx] = gosnmp.SnmpPDU{Type: gosnmp.Counter32, Value: uint(errs)}
	}
	inErrors := func(got []schemas.Sample, idx string) (uint64, bool) {
		for _, g := range got {
			if g.Keys == schemas.SNMPInterfaceKeys("if"+idx, "", idx) && g.Metric == schemas.MetricInErrors {
				return g.U64, true
			}
		}
		return 0, false
	}
	st := &state{counters: map[string]*counter{}, discon: map[string]uint64{}}
	// if5 at 1000 errors, gone for a poll, back with its counters reset
	// at 3: a new baseline, as at its first poll.
	tab := table{}
	iface(tab, "1", 0)
	iface(tab, "5", 1000)
	appendTable(t, tab, st, 1)
	tab = table{}
	iface(tab, "1", 0)
	appendTable(t, tab, st, 2)
	tab = table{}
	iface(tab, "1", 7)
	iface(tab, "5", 3)
	got := appendTable(t, tab, st, 3)
	if n, ok := inErrors(got, "5"); !ok || n != 3 {
		t.Errorf("if5 back with 3 errors: in-errors %d (published %v), want 3", n, ok)
	}
	if n, _ := inErrors(got, "1"); n != 7 {
		t.Errorf("if1, there all along: in-errors %d, want 7", n)
	}

	// 1000 polls, each of one interface that stays and one that is new (a
	// fresh ifIndex): the state holds the two of the last poll.
	st = &state{counters: map[string]*counter{}, discon: map[string]uint64{}}
	for p := range 1000 {
		tab := table{}
		iface(tab, "1", 0)
		iface(tab, fmt.Sprint(1000+p), 0)
		appendTable(t, tab, st, int64(p+1))
	}
	if n := len(st.counters); n != 2 {
		t.Errorf("after 1000 polls of 2 interfaces each, the state holds %d counters, want 2", n)
	}
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
