package agent

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

const lldpPath = "/lldp/interfaces/interface/neighbors/neighbor/state"

// TestLLDPOverGNMI subscribes to a leaf's and its spine's LLDP neighbours
// (the collector's default path) while the link between them is down for
// three ticks: before and after, every cabled port reports its peer's name
// and port with the canonical keys; the tick the link goes down, each end
// gets one gNMI delete of that neighbour entry and no update for it until
// the link is back; the other uplink is untouched. Both encodings.
func TestLLDPOverGNMI(t *testing.T) {
	const leaf = "sim-02"
	a := newAgent(t, sim.Config{Devices: 5, Interfaces: 3, Interval: 10 * time.Second, Topology: sim.Topology{Spines: 2},
		Faults: []sim.Fault{{Device: leaf, Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: 30 * time.Second, Duration: 30 * time.Second}}}, Config{})
	var down sim.Link
	for _, l := range a.Fleet().Links() {
		if l.B.Device == leaf && l.B.Interface == "Ethernet1" {
			down = l
		}
	}
	ctx := context.Background()
	type stream struct {
		st  pb.GNMI_SubscribeClient
		dev string
		dec *gnmi.Decoder
		b   *publish.Batch
	}
	var streams []stream
	for i, dev := range []string{leaf, down.A.Device} {
		enc := []pb.Encoding{pb.Encoding_PROTO, pb.Encoding_JSON_IETF}[i]
		st, err := client(t, a.Targets()[deviceIdx(t, a, dev)].Addr).Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(subList(pb.SubscriptionList_STREAM, enc, lldpPath)); err != nil {
			t.Fatal(err)
		}
		b := publish.NewBatch(memory.NewGoAllocator(), dev, schemas.SourceGNMI)
		t.Cleanup(b.Release)
		dec, err := gnmi.NewDecoder(b, gnmi.DecoderConfig{})
		if err != nil {
			t.Fatal(err)
		}
		s := stream{st: st, dev: dev, dec: dec, b: b}
		recvUntilSync(t, st, s.dec) // nothing yet: no step taken
		streams = append(streams, s)
	}
	const ticks = 8 // 0 … 70 s; down at 30, 40, 50 s
	for range ticks {
		if _, err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// 3 ticks without the neighbour on both ends, 2 leaves each.
	if got, want := a.Stats().Values, int64(ticks*a.Fleet().LeavesPerTick()-3*2*2); got != want {
		t.Errorf("Stats().Values = %d, want %d", got, want)
	}
	last := t0.Add((ticks - 1) * 10 * time.Second).UnixNano()
	for _, s := range streams {
		deletes := map[int64][]string{}
		ports := 0 // one notification per neighbour and tick
		for _, l := range a.Fleet().Links() {
			if l.A.Device == s.dev || l.B.Device == s.dev {
				ports++
			}
		}
		for seen := 0; seen < ports; {
			r, err := s.st.Recv()
			if err != nil {
				t.Fatal(err)
			}
			n := r.GetUpdate()
			for _, p := range n.GetDelete() {
				deletes[n.GetTimestamp()] = append(deletes[n.GetTimestamp()], gnmi.FormatPath(&pb.Path{Elem: append(slices.Clone(n.GetPrefix().GetElem()), p.GetElem()...)}))
			}
			if _, err := s.dec.DecodeResponse(r, 0); err != nil {
				t.Fatal(err)
			}
			if n.GetTimestamp() == last {
				seen++
			}
		}
		rec := s.b.NewRecord()
		got, err := schemas.Samples(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		checkLLDP(t, a.Fleet(), s.dev, down, got, deletes)
	}
}

// checkLLDP checks one device's LLDP samples and deletes against the
// fleet's links, the link down being down at ticks 3, 4 and 5.
func checkLLDP(t *testing.T, f *sim.Fleet, dev string, down sim.Link, got []schemas.Sample, deletes map[int64][]string) {
	t.Helper()
	want := map[string][2]string{} // keys → system-name, port-id
	downKeys := ""
	for _, l := range f.Links() {
		for _, e := range [][2]sim.Endpoint{{l.A, l.B}, {l.B, l.A}} {
			if e[0].Device == dev {
				k := schemas.LLDPNeighborKeys(e[0].Interface, e[1].Device)
				want[k] = [2]string{e[1].Device, e[1].Interface}
				if l == down {
					downKeys = k
				}
			}
		}
	}
	perTick := map[int64]map[string]int{}
	counts := map[int64]map[string]float64{} // the decoder's LLDP neighbour counts by tick and port keys
	for _, s := range got {
		if s.Metric == schemas.MetricLLDPNeighbors {
			if counts[s.TS] == nil {
				counts[s.TS] = map[string]float64{}
			}
			counts[s.TS][s.Keys] = s.F64
			continue
		}
		w, ok := want[s.Keys]
		switch {
		case !ok:
			t.Fatalf("%s: unexpected neighbour %s %s", dev, s.Metric, s.Keys)
		case s.Kind != schemas.KindState:
			t.Fatalf("%s: %s arrived as %v", dev, s.Metric, s.Kind)
		case s.Metric == schemas.MetricLLDPNeighborSystemName && s.Str != w[0], s.Metric == schemas.MetricLLDPNeighborPortID && s.Str != w[1]:
			t.Fatalf("%s %s %s = %q, want %v", dev, s.Metric, s.Keys, s.Str, w)
		}
		if perTick[s.TS] == nil {
			perTick[s.TS] = map[string]int{}
		}
		perTick[s.TS][s.Keys]++
	}
	port, _, _ := schemas.ParseLLDPNeighborKeys(downKeys)
	wantDelete := fmt.Sprintf("/lldp/interfaces/interface[name=%s]/neighbors/neighbor[id=%s]", port, map[bool]string{true: down.B.Device, false: down.A.Device}[dev == down.A.Device])
	for i := range int64(8) {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		isDown := i >= 3 && i <= 5
		for k := range want {
			n := perTick[ts][k]
			if (k == downKeys && isDown && n != 0) || ((k != downKeys || !isDown) && n != 2) {
				t.Errorf("%s tick %d: %d samples of neighbour %s (link down: %v)", dev, i, n, k, k == downKeys && isDown)
			}
		}
		if d := deletes[ts]; (i == 3 && !slices.Equal(d, []string{wantDelete})) || (i != 3 && len(d) != 0) {
			t.Errorf("%s tick %d: deletes %v, want %v only at tick 3", dev, i, d, wantDelete)
		}
		// The collector's count of each port's neighbours: every port's 1
		// at the first tick, then only the link down's port: 0 at its
		// delete, 1 when the neighbour is back.
		wantCounts := map[string]float64{}
		switch i {
		case 0:
			for k := range want {
				p, _, _ := schemas.ParseLLDPNeighborKeys(k)
				wantCounts[schemas.LLDPPortKeys(p)] = 1
			}
		case 3, 6:
			wantCounts[schemas.LLDPPortKeys(port)] = map[bool]float64{true: 0, false: 1}[i == 3]
		}
		if downKeys == "" {
			wantCounts = map[string]float64{}
			if i == 0 {
				for k := range want {
					p, _, _ := schemas.ParseLLDPNeighborKeys(k)
					wantCounts[schemas.LLDPPortKeys(p)] = 1
				}
			}
		}
		if got := counts[ts]; len(got)+len(wantCounts) > 0 && !maps.Equal(got, wantCounts) {
			t.Errorf("%s tick %d: LLDP neighbour counts %v, want %v", dev, i, got, wantCounts)
		}
	}
}

func deviceIdx(t *testing.T, a *Agent, name string) int {
	t.Helper()
	for i, tg := range a.Targets() {
		if tg.Name == name {
			return i
		}
	}
	t.Fatalf("no device %s", name)
	return -1
}

// TestLLDPPathWithoutData subscribes to the LLDP neighbours of a fleet
// without a topology: a path of the vocabulary with no data is answered
// with a sync_response and nothing else, not NotFound.
func TestLLDPPathWithoutData(t *testing.T) {
	a := newAgent(t, sim.Config{Devices: 1, Interfaces: 1, Interval: time.Second}, Config{})
	ctx := context.Background()
	if _, err := a.Step(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := client(t, a.Targets()[0].Addr).Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(subList(pb.SubscriptionList_ONCE, pb.Encoding_PROTO, lldpPath, schemas.MetricBGPSessionState)); err != nil {
		t.Fatal(err)
	}
	r, err := st.Recv()
	if err != nil || !r.GetSyncResponse() {
		t.Fatalf("first response %v, %v; want a sync_response", r, err)
	}
}

// TestDefaultPathsOverGNMI subscribes to the gNMI collector's default
// paths on a leaf/spine fleet: one subscription list brings the interface
// and component series, the LLDP neighbours and the BGP and BFD session
// states of every device, with nothing missing and nothing else.
func TestDefaultPathsOverGNMI(t *testing.T) {
	a := newAgent(t, sim.Config{Devices: 3, Interfaces: 2, Interval: 10 * time.Second, Topology: sim.Topology{Spines: 1}}, Config{})
	ctx := context.Background()
	if _, err := a.Step(ctx); err != nil {
		t.Fatal(err)
	}
	for i, tg := range a.Targets() {
		st, err := client(t, tg.Addr).Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Send(subList(pb.SubscriptionList_ONCE, pb.Encoding_PROTO, gnmi.DefaultPaths()...)); err != nil {
			t.Fatal(err)
		}
		b := publish.NewBatch(memory.NewGoAllocator(), tg.Name, schemas.SourceGNMI)
		dec, err := gnmi.NewDecoder(b, gnmi.DecoderConfig{DerivePower: new(false)})
		if err != nil {
			t.Fatal(err)
		}
		recvUntilSync(t, st, dec)
		rec := b.NewRecord()
		got, err := schemas.Samples(rec)
		rec.Release()
		b.Release()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, s := range a.Fleet().DeviceSeries(i) {
			switch {
			case s.Metric == schemas.MetricBGPEstablished, s.Metric == schemas.MetricBGPPrefixesReceived:
				// not in the default paths
			default:
				want[s.Metric+" "+s.Keys] = true
			}
		}
		seen := map[string]bool{}
		for _, s := range got {
			k := s.Metric + " " + s.Keys
			if !want[k] {
				t.Fatalf("%s: unexpected %s", tg.Name, k)
			}
			seen[k] = true
		}
		for _, m := range []string{schemas.MetricLLDPNeighborSystemName, schemas.MetricLLDPNeighborPortID, schemas.MetricBGPSessionState, schemas.MetricBFDSessionState} {
			n := 0
			for k := range seen {
				if strings.HasPrefix(k, m+" ") {
					n++
				}
			}
			if n == 0 {
				t.Errorf("%s: no %s", tg.Name, m)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("%s: %d of %d series", tg.Name, len(seen), len(want))
		}
	}
}
