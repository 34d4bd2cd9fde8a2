package snmp

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/gosnmp/gosnmp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

func TestLLDPIDs(t *testing.T) {
	f := func(raw []byte, st int, want string) {
		t.Helper()
		var res pollResult
		if got := lldpID(gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: raw}, st, chassisMAC, chassisNetAddr, &res); got != want {
			t.Fatalf("lldpID(%x, subtype %d) = %q, want %q", raw, st, got, want)
		}
	}
	f([]byte{0x00, 0x1c, 0x73, 0xaa, 0xbb, 0x01}, chassisMAC, "00:1c:73:aa:bb:01")
	f([]byte{1, 10, 0, 0, 7}, chassisNetAddr, "10.0.0.7")
	f([]byte{2, 0x20, 0x01, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, chassisNetAddr, "2001:db8::1")
	f([]byte{9, 1, 2}, chassisNetAddr, "09:01:02") // an address family it does not know
	f([]byte("spine-01"), 7, "spine-01")           // local
	f([]byte("sw\xff1"), 7, "sw\uFFFD1")           // repaired
	f(nil, chassisMAC, "")

	// Local port names: lldpLocPortId of subtype interfaceName, else the
	// description, else ifName of the same index, else the number.
	tab := table{
		colLLDPLocPortST:   {"1": {Value: 5}, "2": {Value: 7}, "3": {Value: 7}, "4": {Value: 7}},
		colLLDPLocPortID:   {"1": {Value: []byte("Ethernet1")}, "2": {Value: []byte("2")}, "3": {Value: []byte("3")}, "4": {Value: []byte("4")}},
		colLLDPLocPortDesc: {"2": {Value: []byte("Ethernet2")}},
		colIfName:          {"3": {Value: []byte("Ethernet3")}},
	}
	for num, want := range map[string]string{"1": "Ethernet1", "2": "Ethernet2", "3": "Ethernet3", "4": "lldpLocPortNum4", "5": "lldpLocPortNum5"} {
		if got := localPortName(tab, num, &pollResult{}); got != want {
			t.Errorf("local port %s named %q, want %q", num, got, want)
		}
	}
}

// lldpOf returns the LLDP neighbours' samples by metric and keys, failing
// on any other sample (but the ports' neighbour counts: see lldpCounts) or
// a kind other than state.
func lldpOf(t *testing.T, got []schemas.Sample) map[[2]string]string {
	t.Helper()
	out := map[[2]string]string{}
	for _, g := range got {
		if g.Metric == schemas.MetricLLDPNeighbors {
			continue
		}
		if g.Metric != schemas.MetricLLDPNeighborSystemName && g.Metric != schemas.MetricLLDPNeighborPortID {
			t.Fatalf("sample %+v: want LLDP neighbours only", g)
		}
		if g.Kind != schemas.KindState {
			t.Fatalf("%s %s: kind %v", g.Metric, g.Keys, g.Kind)
		}
		out[[2]string{g.Metric, g.Keys}] = g.Str
	}
	return out
}

// TestPollLLDP polls a leaf/spine fleet's LLDP-MIB: every cabled port of a
// leaf has its spine's name and port, under the gNMI collector's names and
// keys; while one uplink is down its neighbour is gone. A fleet without a
// topology has no LLDP-MIB: polling it is no error and gives no sample.
func TestPollLLDP(t *testing.T) {
	a, s := simAgentOf(t, sim.Config{Devices: 5, Interfaces: 3, Start: time.Now().Add(-time.Hour), Topology: sim.Topology{Spines: 2},
		Faults: []sim.Fault{{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: 10 * time.Second, Duration: 10 * time.Second}}})
	t.Setenv("TK_TEST_COMMUNITY", "sim-02")
	tg := Target{Name: "sim-02", Address: s.Addr(), Community: secret.Source{Env: "TK_TEST_COMMUNITY"}, MIBs: []string{MIBLLDP}}
	want := map[[2]string]string{}
	for _, lk := range a.Fleet().Links() {
		if lk.B.Device == "sim-02" {
			k := schemas.LLDPNeighborKeys(lk.B.Interface, lk.A.Device)
			want[[2]string{schemas.MetricLLDPNeighborSystemName, k}] = lk.A.Device
			want[[2]string{schemas.MetricLLDPNeighborPortID, k}] = lk.A.Interface
		}
	}
	for step, down := range []bool{false, true, false} { // the ticks at 0, 10 and 20 s
		if _, err := a.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		w := maps.Clone(want)
		if down {
			maps.DeleteFunc(w, func(k [2]string, _ string) bool {
				p, _, _ := schemas.ParseLLDPNeighborKeys(k[1])
				return p == "Ethernet1"
			})
		}
		if got := lldpOf(t, pollSamples(t, tg, &state{})); len(want) != 4 || !maps.Equal(got, w) {
			t.Fatalf("step %d: LLDP %v, want %v", step, got, w)
		}
	}

	_, plain := simAgentOf(t, sim.Config{Devices: 1, Interfaces: 2, Start: time.Now().Add(-time.Hour)})
	t.Setenv("TK_TEST_COMMUNITY", "sim-00")
	tg.Address = plain.Addr()
	tg = tg.inherit(Target{})
	batch := publish.NewBatch(memory.NewGoAllocator(), tg.Name, schemas.SourceSNMP)
	defer batch.Release()
	res, err := poll(context.Background(), tg, &state{}, batch)
	if err != nil || res.samples != 0 || batch.Len() != 0 || !res.noLLDP {
		t.Fatalf("a device without LLDP-MIB: %v, %d samples, noLLDP %v", err, res.samples, res.noLLDP)
	}

	// The collector says so in one DEBUG line, however many polls.
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1")) // never used: no poll has samples
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pub, err := publish.New(cl, publish.Config{Topic: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	c, err := New(Config{Targets: []Target{tg}}, pub, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c.pollOne(context.Background(), context.Background(), c.targets[tg.Name], batch)
	}
	if n := strings.Count(logs.String(), "no LLDP neighbour"); n != 1 || !strings.Contains(logs.String(), "level=DEBUG") || c.Stats().Failures != 0 {
		t.Fatalf("%d lines about the missing LLDP-MIB in 3 polls, want 1 at DEBUG and no failure:\n%s", n, logs.String())
	}
}

// lldpCounts returns the ports' LLDP neighbour counts by keys, failing on
// a kind other than gauge.
func lldpCounts(t *testing.T, got []schemas.Sample) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, g := range got {
		if g.Metric != schemas.MetricLLDPNeighbors {
			continue
		}
		if g.Kind != schemas.KindGauge {
			t.Fatalf("%s %s: kind %v", g.Metric, g.Keys, g.Kind)
		}
		out[g.Keys] = g.F64
	}
	return out
}

// TestPollLLDPNeighborCount polls a leaf whose uplink Ethernet1 goes down
// for one tick (Ethernet2 stays up): every poll publishes each port's LLDP neighbour count,
// keyed like the interface; while the link is down its neighbour's row is
// gone and the port, remembered from the poll before, counts 0. A
// collector that never saw a neighbour on the port publishes nothing for
// it.
func TestPollLLDPNeighborCount(t *testing.T) {
	a, s := simAgentOf(t, sim.Config{Devices: 5, Interfaces: 3, Start: time.Now().Add(-time.Hour), Topology: sim.Topology{Spines: 2},
		Faults: []sim.Fault{{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: 10 * time.Second, Duration: 10 * time.Second}}})
	t.Setenv("TK_TEST_COMMUNITY", "sim-02")
	tg := Target{Name: "sim-02", Address: s.Addr(), Community: secret.Source{Env: "TK_TEST_COMMUNITY"}, MIBs: []string{MIBLLDP}}
	e1, e2 := schemas.LLDPPortKeys("Ethernet1"), schemas.LLDPPortKeys("Ethernet2")
	st := &state{}
	for step, want := range []map[string]float64{{e1: 1, e2: 1}, {e1: 0, e2: 1}, {e1: 1, e2: 1}} { // the ticks at 0, 10 and 20 s
		if _, err := a.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := lldpCounts(t, pollSamples(t, tg, st)); !maps.Equal(got, want) {
			t.Fatalf("step %d: LLDP neighbour counts %v, want %v", step, got, want)
		}
		if step == 1 {
			if got := lldpCounts(t, pollSamples(t, tg, &state{})); !maps.Equal(got, map[string]float64{e2: 1}) {
				t.Fatalf("step %d, a new collector: LLDP neighbour counts %v, want Ethernet2's only", step, got)
			}
		}
	}
}

// TestLLDPOnSnmpd polls the LLDP-MIB test data deploy/local/snmpd.sh
// serves (Net-SNMP has no LLDP-MIB of its own): two neighbours, one whose
// local port is named by lldpLocPortId and one by lldpLocPortDesc, whose
// port id is a MAC address.
func TestLLDPOnSnmpd(t *testing.T) {
	tg := snmpdTargets(t)[0]
	tg.MIBs = []string{MIBInterfaces, MIBLLDP}
	var got []schemas.Sample
	for _, s := range pollSamples(t, tg, &state{}) {
		if s.Metric == schemas.MetricLLDPNeighborSystemName || s.Metric == schemas.MetricLLDPNeighborPortID {
			got = append(got, s)
		}
	}
	if len(got) == 0 {
		t.Fatalf("snmpd at %s serves no LLDP-MIB neighbour: it was started by an older deploy/local/snmpd.sh; "+
			"restart it (deploy/local/services.sh) to load the script's LLDP test data", testenv.Service(t, "TK_SNMP_ADDR"))
	}
	k1, k2 := schemas.LLDPNeighborKeys("Ethernet1", "00:1c:73:aa:bb:01"), schemas.LLDPNeighborKeys("Ethernet2", "00:1c:73:aa:bb:02")
	want := map[[2]string]string{
		{schemas.MetricLLDPNeighborSystemName, k1}: "spine-01",
		{schemas.MetricLLDPNeighborPortID, k1}:     "Ethernet7",
		{schemas.MetricLLDPNeighborSystemName, k2}: "spine-02",
		{schemas.MetricLLDPNeighborPortID, k2}:     "00:1c:73:aa:bb:22",
	}
	if g := lldpOf(t, got); !maps.Equal(g, want) {
		t.Fatalf("LLDP neighbours %v, want %v", g, want)
	}
}

// TestLLDPKeysEscapedOnce: a local port whose name holds the keys'
// separators (`,`, `=`, `\`) gets neighbour keys that parse back to it and
// whose port part is the interface's own keys, as the count's are.
func TestLLDPKeysEscapedOnce(t *testing.T) {
	const port, id = `Gi0/1,unit=2\x`, "spine=1"
	tab := table{
		colLLDPLocPortST:    {"1": {Value: 7}},
		colLLDPLocPortID:    {"1": {Value: []byte("1")}},
		colLLDPLocPortDesc:  {"1": {Value: []byte(port)}},
		colLLDPRemChassisST: {"0.1.1": {Value: 7}},
		colLLDPRemChassisID: {"0.1.1": {Value: []byte(id)}},
		colLLDPRemSysName:   {"0.1.1": {Value: []byte("spine-1")}},
	}
	b := publish.NewBatch(memory.NewGoAllocator(), "dev", schemas.SourceSNMP)
	defer b.Release()
	appendLLDP(tab, 1, &state{}, b, &pollResult{})
	rec := b.NewRecord()
	defer rec.Release()
	got, err := schemas.Samples(rec)
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	for _, s := range got {
		switch s.Metric {
		case schemas.MetricLLDPNeighborSystemName:
			seen++
			p, i, ok := schemas.ParseLLDPNeighborKeys(s.Keys)
			if !ok || p != port || i != id {
				t.Errorf("neighbour keys %q parse to (%q, %q, %v), want (%q, %q)", s.Keys, p, i, ok, port, id)
			}
		case schemas.MetricLLDPNeighbors:
			seen++
			if want := "name=" + schemas.EscapeKeyValue(port); s.Keys != want {
				t.Errorf("count keys %q, want the interface's %q", s.Keys, want)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("samples %+v: want the neighbour's system name and the port's count", got)
	}
}
