package snmp

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// cuttingAgent serves mib (sorted by OID) over SNMPv2c on a local UDP
// port, answering each GetBulk with at most most values, as an agent cuts
// its answers to fit its message size; it returns a client of it.
func cuttingAgent(t *testing.T, mib []gosnmp.SnmpPDU, most int) *gosnmp.GoSNMP {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	next := func(name string) gosnmp.SnmpPDU {
		for _, v := range mib {
			if compareOIDs(v.Name, name) > 0 {
				return v
			}
		}
		return gosnmp.SnmpPDU{Name: name, Type: gosnmp.EndOfMibView}
	}
	go func() {
		buf := make([]byte, 65536)
		dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Transport: "udp", Context: context.Background()}
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			req, err := dec.SnmpDecodePacket(buf[:n])
			if err != nil || req.PDUType != gosnmp.GetBulkRequest {
				continue
			}
			resp := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: req.Community, PDUType: gosnmp.GetResponse, RequestID: req.RequestID}
			cur := make([]string, len(req.Variables))
			for i, v := range req.Variables {
				cur[i] = v.Name
			}
			for r := 0; r < int(req.MaxRepetitions) && len(resp.Variables) < most; r++ {
				for i := range cur {
					if len(resp.Variables) == most {
						break
					}
					v := next(cur[i])
					resp.Variables = append(resp.Variables, v)
					cur[i] = v.Name
				}
			}
			if out, err := resp.MarshalMsg(); err == nil {
				_, _ = conn.WriteTo(out, from)
			}
		}
	}()
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(conn.LocalAddr().(*net.UDPAddr).Port), Transport: "udp", Community: "public",
		Version: gosnmp.Version2c, Timeout: time.Second, MaxOids: gosnmp.MaxOids, MaxRepetitions: 10}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Conn.Close() })
	return g
}

// TestWalkCutShort: an agent that answers a GetBulk of several columns
// with fewer values than columns (its message size reached) is walked to
// the end of every column; the walk used to stop without an error when
// such an answer ended a column and reached no other, and a partial
// ifTable taken for complete would drop the counter state of the
// interfaces it missed (appendInterfaces). An agent that answers with no
// value at all fails the walk.
func TestWalkCutShort(t *testing.T) {
	cols := []string{colIfName, colIfDescr, oidIfEntry + ".14"}
	var mib []gosnmp.SnmpPDU
	for _, col := range cols {
		for _, idx := range []string{"1", "2"} {
			mib = append(mib, gosnmp.SnmpPDU{Name: col + "." + idx, Type: gosnmp.Counter32, Value: uint(1)})
		}
	}
	slices.SortFunc(mib, func(a, b gosnmp.SnmpPDU) int { return compareOIDs(a.Name, b.Name) })
	tab := table{}
	if _, err := walkColumns(cuttingAgent(t, mib, 1), cols, tab); err != nil {
		t.Fatal(err)
	}
	for _, col := range cols {
		if len(tab[col]) != 2 {
			t.Errorf("column %s: %d rows walked, want 2 (table %v)", col, len(tab[col]), tab)
		}
	}
	if _, err := walkColumns(cuttingAgent(t, mib, 0), cols, table{}); err == nil {
		t.Error("an agent answering with no value: the walk did not fail")
	}
}
