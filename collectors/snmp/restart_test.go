package snmp

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/schemas"
)

// rebootAgent is an SNMP v2c agent with one interface whose sysUpTime and
// 32-bit ifInErrors the test sets, and which can leave walks unanswered
// (an agent half up after a reboot).
type rebootAgent struct {
	conn net.PacketConn

	mu       sync.Mutex
	uptime   uint32 // centiseconds
	errs     uint32 // ifInErrors
	dropBulk bool
	// bulkDelay holds the next GetBulk answer back (once); bulkSeen, when
	// set, is told of each GetBulk received.
	bulkDelay time.Duration
	bulkSeen  chan struct{}
}

func newRebootAgent(t *testing.T) *rebootAgent {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &rebootAgent{conn: conn}
	done := make(chan struct{})
	go a.serve(done)
	t.Cleanup(func() { conn.Close(); <-done })
	return a
}

func (a *rebootAgent) set(uptime, errs uint32, dropBulk bool) {
	a.mu.Lock()
	a.uptime, a.errs, a.dropBulk = uptime, errs, dropBulk
	a.mu.Unlock()
}

func (a *rebootAgent) serve(done chan struct{}) {
	defer close(done)
	buf := make([]byte, 65536)
	dec := &gosnmp.GoSNMP{Version: gosnmp.Version2c, Transport: "udp", Context: context.Background()}
	for {
		n, from, err := a.conn.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		req, err := dec.SnmpDecodePacket(buf[:n])
		if err != nil {
			continue
		}
		a.mu.Lock()
		objs := []gosnmp.SnmpPDU{ // in OID order
			{Name: oidSysUpTime, Type: gosnmp.TimeTicks, Value: a.uptime},
			{Name: colIfDescr + ".1", Type: gosnmp.OctetString, Value: []byte("eth0")},
			{Name: oidIfEntry + ".14.1", Type: gosnmp.Counter32, Value: uint(a.errs)},
		}
		drop := a.dropBulk && req.PDUType == gosnmp.GetBulkRequest
		delay, seen := a.bulkDelay, a.bulkSeen
		if req.PDUType == gosnmp.GetBulkRequest {
			a.bulkDelay = 0
		}
		a.mu.Unlock()
		if drop {
			continue
		}
		if req.PDUType == gosnmp.GetBulkRequest {
			if seen != nil {
				select {
				case seen <- struct{}{}:
				default:
				}
			}
			time.Sleep(delay)
		}
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
		out, err := resp.MarshalMsg()
		if err == nil {
			_, _ = a.conn.WriteTo(out, from)
		}
	}
}

// pollAgent polls a once; it returns the samples, or the poll's error.
func pollAgent(t *testing.T, a *rebootAgent, st *state) ([]schemas.Sample, error) {
	t.Helper()
	t.Setenv("TK_TEST_COMMUNITY", "public")
	tg := Target{Name: "r1", Address: a.conn.LocalAddr().String(), Community: secret.Source{Env: "TK_TEST_COMMUNITY"},
		MIBs: []string{MIBInterfaces}, Timeout: 200 * time.Millisecond, Retries: -1}.inherit(Target{})
	if err := tg.validate(); err != nil {
		t.Fatal(err)
	}
	b := publish.NewBatch(memory.NewGoAllocator(), tg.Name, schemas.SourceSNMP)
	defer b.Release()
	if _, err := poll(context.Background(), tg, st, b); err != nil {
		return nil, err
	}
	rec := b.NewRecord()
	if rec == nil {
		return nil, nil
	}
	defer rec.Release()
	return schemas.Samples(rec)
}

// inErrors returns the ifInErrors samples and the restart marks of got.
func inErrors(got []schemas.Sample) (values []uint64, restarts int) {
	for _, s := range got {
		switch {
		case s.Metric == schemas.MetricInErrors:
			values = append(values, s.U64)
		case s.Metric == schemas.MetricSNMPDiscontinuity && s.Str == DiscontinuityRestart:
			restarts++
		}
	}
	return values, restarts
}

// TestRestartSeenAfterFailedPoll: an agent that restarted answers the
// sysUpTime of the next poll but not its walk (it is half up). The poll
// after that must still start a new baseline: before, the failed poll had
// stored the new sysUpTime, the restart was forgotten, and the 32-bit
// ifInErrors that came back from 0 was taken for a wrap (a jump of 2^32).
func TestRestartSeenAfterFailedPoll(t *testing.T) {
	a := newRebootAgent(t)
	var st state
	a.set(100_000_000, 5000, false)
	if _, err := pollAgent(t, a, &st); err != nil {
		t.Fatal(err)
	}
	a.set(3000, 10, true) // restarted 30 s ago, still busy
	if _, err := pollAgent(t, a, &st); err == nil || !strings.Contains(err.Error(), "cannot walk") {
		t.Fatalf("the poll of a half-up agent: %v, want a failed walk", err)
	}
	a.set(9000, 20, false)
	got, err := pollAgent(t, a, &st)
	if err != nil {
		t.Fatal(err)
	}
	if vals, restarts := inErrors(got); restarts != 1 || len(vals) != 0 {
		t.Fatalf("after the restart: %d restart marks and in-errors %v, want 1 mark and no counter", restarts, vals)
	}
	a.set(15000, 25, false)
	got, _ = pollAgent(t, a, &st)
	if vals, _ := inErrors(got); len(vals) != 1 || vals[0] != 5005 {
		t.Fatalf("the poll after the new baseline: in-errors %v, want [5005]", vals)
	}
}

// TestRestartLongerThanUptime: an agent polled when it had been up 1 s
// restarts and is polled again 2.5 s later, having been up 1.5 s. Its
// sysUpTime did not go back, but it has been up for less time than has
// passed since its last answer: it restarted, and the poll starts a new
// baseline instead of taking ifInErrors back from 5000 to 3 for a wrap.
func TestRestartLongerThanUptime(t *testing.T) {
	a := newRebootAgent(t)
	var st state
	a.set(100, 5000, false)
	if _, err := pollAgent(t, a, &st); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	a.set(150, 3, false)
	got, err := pollAgent(t, a, &st)
	if err != nil {
		t.Fatal(err)
	}
	if vals, restarts := inErrors(got); restarts != 1 || len(vals) != 0 {
		t.Fatalf("after the restart: %d restart marks and in-errors %v, want 1 mark and no counter", restarts, vals)
	}
}
