package agent

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// sameSample reports whether a sample collected over gNMI is the fleet's.
func sameSample(g, w schemas.Sample) bool {
	ok := g.Metric == w.Metric && g.Keys == w.Keys && g.TS == w.TS && g.Kind == w.Kind
	switch w.Kind {
	case schemas.KindCounter:
		return ok && g.U64 == w.U64
	case schemas.KindGauge: // PSU values travel as float32
		return ok && (g.F64 == w.F64 || float32(g.F64) == float32(w.F64))
	}
	return ok && g.Str == w.Str
}

// TestTopologyOverGNMI collects a leaf/spine fleet's BGP, BFD and
// carrier-transitions series over gNMI with the collector's decoder: every
// series arrives with the simulator's keys, kind and value, in both
// encodings, during a BGP reset.
func TestTopologyOverGNMI(t *testing.T) {
	a := newAgent(t, sim.Config{Devices: 5, Interfaces: 3, Interval: 10 * time.Second, Topology: sim.Topology{Spines: 2},
		Faults: []sim.Fault{{Device: "sim-02", Interface: "Ethernet1", Kind: sim.FaultBGPReset, After: 40 * time.Second, Duration: 2 * time.Minute}}}, Config{})
	ctx := context.Background()
	kinds := map[string]schemas.Kind{}
	for _, c := range []struct {
		dev int
		enc pb.Encoding
	}{{0, pb.Encoding_PROTO}, {2, pb.Encoding_JSON_IETF}, {1, pb.Encoding_JSON}} {
		series := a.Fleet().DeviceLeaves(c.dev) // what a device sends: no LLDP neighbour count
		b := publish.NewBatch(memory.NewGoAllocator(), sim.DeviceName(c.dev), schemas.SourceGNMI)
		dec, err := gnmi.NewDecoder(b, gnmi.DecoderConfig{DerivePower: new(false)})
		if err != nil {
			t.Fatal(err)
		}
		st, err := client(t, a.Targets()[c.dev].Addr).Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(subList(pb.SubscriptionList_STREAM, c.enc, "/")); err != nil {
			t.Fatal(err)
		}
		recvUntilSync(t, st, dec)
		before := b.Len()
		for range 3 {
			if _, err := a.Step(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// The decoder adds each cabled port's LLDP neighbour count once,
		// when it first sees the neighbour: in the first step, or in the
		// initial snapshot once the fleet has stepped.
		ports := len(a.Fleet().DeviceSeries(c.dev)) - len(series)
		if before > 0 {
			ports = 0
		}
		for b.Len() < before+3*len(series)+ports {
			r, err := st.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dec.DecodeResponse(r, 0); err != nil {
				t.Fatal(err)
			}
		}
		rec := b.NewRecord()
		got, _ := schemas.Samples(rec)
		rec.Release()
		b.Release()
		twin, _ := sim.New(a.Fleet().Config())
		var want []schemas.Sample
		for range a.Stats().Steps {
			want = want[:0]
			twin.Next(func(s *schemas.Sample) {
				if s.Device == sim.DeviceName(c.dev) && s.Metric != schemas.MetricLLDPNeighbors {
					want = append(want, *s) // the decoder publishes a count only when it changes
				}
			})
		}
		last := got[len(got)-len(series):]
		for i, w := range want {
			if !sameSample(last[i], w) {
				t.Fatalf("%s %v: sample %d: got %+v, want %+v", w.Device, c.enc, i, last[i], w)
			}
			kinds[w.Metric] = last[i].Kind
		}
	}
	for m, k := range map[string]schemas.Kind{schemas.MetricBGPSessionState: schemas.KindState, schemas.MetricBFDSessionState: schemas.KindState,
		schemas.MetricBGPEstablished: schemas.KindGauge, schemas.MetricBGPPrefixesReceived: schemas.KindGauge,
		schemas.MetricCarrierTransitions: schemas.KindCounter, schemas.MetricAdminStatus: schemas.KindState} {
		if kinds[m] != k {
			t.Errorf("%s arrived as kind %v, want %v", m, kinds[m], k)
		}
	}

	// The reset session, by its OpenConfig path with list keys.
	st, _ := client(t, a.Targets()[2].Addr).Subscribe(ctx)
	_ = st.Send(subList(pb.SubscriptionList_ONCE, pb.Encoding_PROTO,
		"/network-instances/network-instance[name=default]/protocols/protocol[identifier=BGP][name=BGP]/bgp/neighbors/neighbor[neighbor-address=*]/state/session-state"))
	var states []string
	for {
		r, err := st.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range r.GetUpdate().GetUpdate() {
			states = append(states, u.GetVal().GetStringVal())
		}
	}
	if len(states) != 2 || states[0] != sim.BGPIdle || states[1] != sim.BGPEstablished {
		t.Fatalf("leaf sim-02 session states %v, want [IDLE ESTABLISHED] (Ethernet1's reset, Ethernet2's up)", states)
	}
}
