package snmp

import (
	"context"
	"errors"
	"maps"
	"net"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/schemas"
)

// fixedAgent is a v2c agent serving a fixed list of objects (in OID order)
// that the test may replace; a GetBulk gets the next object of each
// varbind (one repetition).
type fixedAgent struct {
	conn net.PacketConn
	mu   sync.Mutex
	objs []gosnmp.SnmpPDU
}

func newFixedAgent(t *testing.T, objs []gosnmp.SnmpPDU) *fixedAgent {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &fixedAgent{conn: conn, objs: objs}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Transport: "udp", Context: context.Background()}
		for {
			n, from, err := conn.ReadFrom(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			req, err := dec.SnmpDecodePacket(buf[:n])
			if err != nil {
				continue
			}
			a.mu.Lock()
			objs := a.objs
			a.mu.Unlock()
			resp := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
			for _, v := range req.Variables {
				next := gosnmp.SnmpPDU{Name: v.Name, Type: gosnmp.EndOfMibView}
				for _, o := range objs {
					if req.PDUType == gosnmp.GetRequest && o.Name == v.Name || req.PDUType != gosnmp.GetRequest && compareOIDs(o.Name, v.Name) > 0 {
						next = o
						break
					}
				}
				resp.Variables = append(resp.Variables, next)
			}
			if out, err := resp.MarshalMsg(); err == nil {
				_, _ = conn.WriteTo(out, from)
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return a
}

func (a *fixedAgent) pollOnce(t *testing.T, st *state) []schemas.Sample {
	t.Helper()
	t.Setenv("TK_TEST_COMMUNITY", "public")
	tg := Target{Name: "d1", Address: a.conn.LocalAddr().String(), Community: secret.Source{Env: "TK_TEST_COMMUNITY"},
		MIBs: []string{MIBInterfaces}, Timeout: 500e6, Retries: -1}.inherit(Target{})
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
	got, err := schemas.Samples(rec)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestDuplicateIfDescrNoFalseWrap: an agent without ifName whose two
// interfaces share one ifDescr ("Ethernet", as cheap switches and some
// virtual interfaces report), with steady 32-bit ifInErrors of 100 and 50
// and steady 64-bit ifHCInOctets, publishes each interface under its own
// keys (the lowest ifIndex "name=Ethernet", the other the name followed by
// its ifIndex, "name=Ethernet (ifIndex 2)"), with its own counter state: every poll publishes 100 and 50, and no
// wrap or discontinuity. Before, both were keyed "name=Ethernet" and
// shared one counter state, so every poll saw the counter go down: the
// 32-bit in-errors were published as jumps of ~2^32 (false wraps), the
// 64-bit octets as counter_decrease discontinuities, and the two
// interfaces as one series with two values at one time.
func TestDuplicateIfDescrNoFalseWrap(t *testing.T) {
	objs := []gosnmp.SnmpPDU{ // in OID order
		{Name: oidSysUpTime, Type: gosnmp.TimeTicks, Value: uint32(100000)},
		{Name: colIfDescr + ".1", Type: gosnmp.OctetString, Value: []byte("Ethernet")},
		{Name: colIfDescr + ".2", Type: gosnmp.OctetString, Value: []byte("Ethernet")},
		{Name: colIfDescr + ".3", Type: gosnmp.OctetString, Value: []byte("lo")},
		{Name: oidIfEntry + ".14.1", Type: gosnmp.Counter32, Value: uint(100)},
		{Name: oidIfEntry + ".14.2", Type: gosnmp.Counter32, Value: uint(50)},
		{Name: oidIfEntry + ".14.3", Type: gosnmp.Counter32, Value: uint(7)},
		{Name: oidIfXEntry + ".6.1", Type: gosnmp.Counter64, Value: uint64(9000)},
		{Name: oidIfXEntry + ".6.2", Type: gosnmp.Counter64, Value: uint64(4000)},
	}
	a := newFixedAgent(t, objs)
	var st state
	want := map[[2]string]uint64{
		{schemas.MetricInErrors, "name=Ethernet"}:             100,
		{schemas.MetricInErrors, "name=Ethernet (ifIndex 2)"}: 50,
		{schemas.MetricInErrors, "name=lo"}:                   7, // a name of its own: keyed as ever
		{schemas.MetricInOctets, "name=Ethernet"}:             9000,
		{schemas.MetricInOctets, "name=Ethernet (ifIndex 2)"}: 4000,
	}
	for p := range 3 {
		got := map[[2]string]uint64{}
		for _, s := range a.pollOnce(t, &st) {
			switch s.Metric {
			case schemas.MetricInErrors, schemas.MetricInOctets:
				k := [2]string{s.Metric, s.Keys}
				if old, dup := got[k]; dup {
					t.Errorf("poll %d: %s %s published twice at one time (%d and %d)", p, s.Metric, s.Keys, old, s.U64)
				}
				got[k] = s.U64
			case schemas.MetricSNMPDiscontinuity:
				t.Errorf("poll %d: discontinuity %q %s of steady counters", p, s.Str, s.Keys)
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("poll %d: counters %v, want %v (a jump of ~2^32 is a false 32-bit wrap)", p, got, want)
		}
		a.mu.Lock()
		a.objs[0].Value = a.objs[0].Value.(uint32) + 500 // 5 s later, no restart
		a.mu.Unlock()
	}
}

// TestInterfaceNames: an interface is keyed by its ifName, else ifDescr,
// else "ifIndexN", as schemas.SNMPInterfaceKeys keys it, when no other
// interface of the agent has that name; every interface of a repeated
// name gets its ifIndex after it, as does one whose name such a suffixed
// name would take, so the keys of an agent are unique and do not depend
// on the order of its rows.
func TestInterfaceNames(t *testing.T) {
	s := func(v string) gosnmp.SnmpPDU { return gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte(v)} }
	tab := table{
		colIfName: {"1": s("Gi0/1"), "2": s(""), "3": s("")},
		colIfDescr: {"1": s("Ethernet"), "2": s("Ethernet"), "3": s("Ethernet"), "4": s("Port 1, Slot 2"),
			"5": s("Ethernet (ifIndex 2)"), "6": s("ifIndex7"), "7": s(""), "8": s("uplink"), "9": s("uplink")},
	}
	want := map[string]string{
		"1": "Gi0/1",    // ifName
		"2": "Ethernet", // repeated ifDescr: the lowest ifIndex keeps it
		"3": "Ethernet (ifIndex 3)",
		"4": "Port 1, Slot 2",                        // unique: as schemas.SNMPInterfaceKeys keys it
		"5": "Ethernet (ifIndex 2)",                  // no one takes it
		"6": "ifIndex7", "7": "ifIndex7 (ifIndex 7)", // no name, beside a name of its form
		"8": "uplink", "9": "uplink (ifIndex 9)",
	}
	for range 20 { // map orders
		got := map[string]string{}
		for idx, n := range interfaceNames(tab, &pollResult{}) {
			got[idx] = n.unique
		}
		if !maps.Equal(got, want) {
			t.Fatalf("names %v, want %v", got, want)
		}
	}
	if got, want := schemas.SNMPInterfaceKeys("", "Port 1, Slot 2", "4"), `name=Port 1\, Slot 2`; got != want {
		t.Errorf("keys of a unique name %q, want %q", got, want)
	}
}

// TestLLDPPortOfRepeatedName: a local LLDP port named after the interface
// of its number by a name that repeats on the agent (lldpLocPortDesc
// "Ethernet", the ifDescr of two interfaces) is keyed as that interface's
// series, "name=Ethernet (ifIndex 2)", so its neighbours and count go with
// the interface's own series; a port of a unique name keeps it.
func TestLLDPPortOfRepeatedName(t *testing.T) {
	s := func(v string) gosnmp.SnmpPDU { return gosnmp.SnmpPDU{Type: gosnmp.OctetString, Value: []byte(v)} }
	tab := table{
		colIfDescr:          {"1": s("Ethernet"), "2": s("Ethernet"), "3": s("lo")},
		colLLDPLocPortST:    {"2": {Value: 7}, "3": {Value: 7}},
		colLLDPLocPortID:    {"2": s("2"), "3": s("3")},
		colLLDPLocPortDesc:  {"2": s("Ethernet"), "3": s("lo")},
		colLLDPRemChassisST: {"0.2.1": {Value: 7}, "0.3.1": {Value: 7}},
		colLLDPRemChassisID: {"0.2.1": s("spine-1"), "0.3.1": s("spine-2")},
		colLLDPRemSysName:   {"0.2.1": s("spine-1"), "0.3.1": s("spine-2")},
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
	ports := map[string]string{}
	for _, g := range got {
		if g.Metric == schemas.MetricLLDPNeighborSystemName {
			p, _, _ := schemas.ParseLLDPNeighborKeys(g.Keys)
			ports[g.Str] = p
		}
	}
	if want := map[string]string{"spine-1": "Ethernet (ifIndex 2)", "spine-2": "lo"}; !maps.Equal(ports, want) {
		t.Errorf("neighbours' local ports %v, want %v", ports, want)
	}
}
