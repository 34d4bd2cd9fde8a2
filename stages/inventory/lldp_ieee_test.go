package inventory

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// gnmiLLDP returns the samples message the gNMI collector makes of device
// streaming its LLDP neighbours (each nb's port, system and peer) in
// OpenConfig (ieee false) or ieee802-dot1ab-lldp.
func gnmiLLDP(t *testing.T, device string, ieee bool, ns ...nb) *kgo.Record {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := publish.NewBatch(mem, device, schemas.SourceGNMI)
	defer b.Release()
	d, err := gnmi.NewDecoder(b, gnmi.DecoderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	n := &pb.Notification{Timestamp: t0.UnixNano()}
	for i, x := range ns {
		entry := fmt.Sprintf("/lldp/interfaces/interface[name=%s]/neighbors/neighbor[id=%s]/state/", x.port, x.system)
		if ieee {
			entry = fmt.Sprintf("/ieee802-dot1ab-lldp:lldp/port[name=%s][dest-mac-address=01-80-C2-00-00-0E]/remote-systems-data[time-mark=0][remote-index=%d]/", x.port, i+1)
		}
		for leaf, v := range map[string]string{"system-name": x.system, "port-id": x.peer} {
			p, err := gnmi.ParsePath(entry + leaf)
			if err != nil {
				t.Fatal(err)
			}
			n.Update = append(n.Update, &pb.Update{Path: p, Val: &pb.TypedValue{Value: &pb.TypedValue_StringVal{StringVal: v}}})
		}
	}
	if _, err := d.DecodeResponse(&pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: n}}, t0.UnixNano()); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	if rec == nil {
		t.Fatalf("%s: no sample", device)
	}
	defer rec.Release()
	val, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: "samples", Value: val, Headers: kafka.RecordHeaders(schemas.SamplesHeaders())}
}

// TestIEEELLDPLinks: devices whose gNMI streams carry their LLDP
// neighbours in ieee802-dot1ab-lldp give the inventory the links that the
// OpenConfig form of the same neighbours gives, whichever form each end
// streams. Before, the IEEE form gave no link at all.
func TestIEEELLDPLinks(t *testing.T) {
	leaf := []nb{{0, "leaf1", "eth0", "spine1", "Ethernet7"}, {0, "leaf1", "eth1", "spine2", "Ethernet7"}}
	spine := []nb{{0, "spine1", "Ethernet7", "leaf1", "eth0"}}
	want := []string{"leaf1:eth0-spine1:Ethernet7", "leaf1:eth1-spine2:Ethernet7"}
	for _, c := range []struct{ leafIEEE, spineIEEE bool }{{false, false}, {true, true}, {true, false}, {false, true}} {
		f := newFixture(t, Fixed(nil), slog.New(slog.DiscardHandler))
		for _, r := range []*kgo.Record{gnmiLLDP(t, "leaf1", c.leafIEEE, leaf...), gnmiLLDP(t, "spine1", c.spineIEEE, spine...)} {
			if err := f.st.Add(f.ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.st.Flush(f.ctx); err != nil {
			t.Fatal(err)
		}
		if got := links(f.read()); !slices.Equal(got, want) {
			t.Errorf("leaf IEEE %v, spine IEEE %v: links %q, want %q", c.leafIEEE, c.spineIEEE, got, want)
		}
	}
}
