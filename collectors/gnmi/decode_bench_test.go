package gnmi

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// counterLeaves are the ten interface counters of the benchmark's
// notifications.
var counterLeaves = []string{"in-octets", "out-octets", "in-unicast-pkts", "out-unicast-pkts", "in-multicast-pkts",
	"out-multicast-pkts", "in-errors", "out-errors", "in-discards", "out-discards"}

// benchResponses returns n encoded SubscribeResponses, each a notification
// of the ten counters of one of ifaces interfaces, in ticks of ifaces.
func benchResponses(tb testing.TB, n, ifaces int, json bool) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		tick, ifc := i/ifaces, i%ifaces
		nt := &pb.Notification{Timestamp: ts1 + int64(tick)*10e9, Prefix: mustPath(tb, fmt.Sprintf("/interfaces/interface[name=Ethernet%d]/state/counters", ifc+1))}
		for j, leaf := range counterLeaves {
			v := uint64(1e12) + uint64(tick*1000+j)
			tv := u64v(v)
			if json {
				tv = jsonv(`"` + strconv.FormatUint(v, 10) + `"`)
			}
			nt.Update = append(nt.Update, &pb.Update{Path: &pb.Path{Elem: []*pb.PathElem{{Name: leaf}}}, Val: tv})
		}
		raw, err := proto.Marshal(&pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: nt}})
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = raw
	}
	return out
}

// BenchmarkNotificationToArrow measures one 10-update notification of
// interface counters into the samples Arrow builder, with the collector's
// decoder options (a record is cut at 4096 rows or the default record size
// while decoding; the default timestamp window is checked), next to a plain proto.Unmarshal of the
// same bytes into the gNMI message types.
func BenchmarkNotificationToArrow(b *testing.B) {
	const n, ifaces = 4096, 64
	for _, enc := range []string{"proto", "json_ietf"} {
		msgs := benchResponses(b, n, ifaces, enc == "json_ietf")
		b.Run("decode/"+enc, func(b *testing.B) {
			sb := publish.NewBatch(memory.NewGoAllocator(), "bench-device", schemas.SourceGNMI)
			defer sb.Release()
			d := newDecoder(b, sb, DecoderConfig{MaxPast: DefaultMaxPast, MaxFuture: DefaultMaxFuture,
				MaxRows: DefaultMaxRows, MaxBatchBytes: publish.DefaultMaxBatchBytes, Full: func() { sb.NewRecord().Release() }})
			b.SetBytes(int64(len(msgs[0])))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % n
				if k == 0 {
					d.resetDedup()
				}
				if _, err := d.Decode(msgs[k], ts1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(counterLeaves)), "ns/update")
			if d.Stats().Samples != uint64(b.N*len(counterLeaves)) {
				b.Fatalf("samples %d, want %d", d.Stats().Samples, b.N*len(counterLeaves))
			}
		})
		b.Run("proto.Unmarshal/"+enc, func(b *testing.B) {
			b.SetBytes(int64(len(msgs[0])))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var r pb.SubscribeResponse
				if err := proto.Unmarshal(msgs[i%n], &r); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(counterLeaves)), "ns/update")
		})
	}
}
