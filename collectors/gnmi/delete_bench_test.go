package gnmi

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkDelete measures one delete against a decoder caching the
// counters of 64 interfaces and of two subinterfaces each (1920 series):
// a delete naming every key of its entry, one naming none of a list's
// keys, and one naming some (a subinterface of any interface). Each names
// an entry the device never sent, so every run scans the same caches.
func BenchmarkDelete(b *testing.B) {
	sb := publish.NewBatch(memory.NewGoAllocator(), "bench-device", schemas.SourceGNMI)
	defer sb.Release()
	d := newDecoder(b, sb, DecoderConfig{})
	for i := range 64 {
		for _, prefix := range []string{fmt.Sprintf("/interfaces/interface[name=Ethernet%d]/state/counters", i),
			fmt.Sprintf("/interfaces/interface[name=Ethernet%d]/subinterfaces/subinterface[index=0]/state/counters", i),
			fmt.Sprintf("/interfaces/interface[name=Ethernet%d]/subinterfaces/subinterface[index=1]/state/counters", i)} {
			nt := &pb.Notification{Timestamp: ts1, Prefix: mustPath(b, prefix)}
			for _, leaf := range counterLeaves {
				nt.Update = append(nt.Update, &pb.Update{Path: &pb.Path{Elem: []*pb.PathElem{{Name: leaf}}}, Val: u64v(1)})
			}
			if _, err := d.DecodeResponse(&pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: nt}}, ts1); err != nil {
				b.Fatal(err)
			}
		}
	}
	sb.NewRecord().Release()
	for _, bc := range []struct{ name, path string }{
		{"all-keys", "/interfaces/interface[name=Ethernet99]"},
		{"no-keys", "/interfaces/interface/subinterfaces/subinterface/state/counters/in-fcs-errors"},
		{"some-keys", "/interfaces/interface/subinterfaces/subinterface[index=7]"},
	} {
		raw, err := proto.Marshal(&pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: &pb.Notification{
			Timestamp: ts1 + 1, Delete: []*pb.Path{mustPath(b, bc.path)}}}})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Decode(raw, ts1); err != nil {
					b.Fatal(err)
				}
			}
			if n := len(d.canon); n != 64*3*len(counterLeaves) {
				b.Fatalf("%d series cached, want every one kept", n)
			}
		})
	}
}
