package gnmi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkJSONTree measures one JSON_IETF update holding a subtree, as a
// device answers a subscription to a container: ietf-interfaces
// statistics of 4 interfaces, sent as the list (/interfaces, whose path
// is parsed for the list's keys) or as one entry's container
// (/interfaces/interface[name=…]/statistics, no list).
func BenchmarkJSONTree(b *testing.B) {
	const ifaces = 4
	for _, shape := range []string{"list", "container"} {
		b.Run(shape, func(b *testing.B) {
			var msgs [][]byte
			for tick := range 64 {
				nt := &pb.Notification{Timestamp: ts1 + int64(tick)*10e9}
				var sb strings.Builder
				for i := range ifaces {
					stats := fmt.Sprintf(`{"in-octets":"%d","out-octets":"%d","in-errors":"0","out-errors":"0"}`, tick*1000+i, tick*2000+i)
					if shape == "container" {
						nt.Update = append(nt.Update, &pb.Update{Path: mustPath(b, fmt.Sprintf("/ietf-interfaces:interfaces/interface[name=eth%d]/statistics", i)), Val: jsonv(stats)})
						continue
					}
					if i > 0 {
						sb.WriteByte(',')
					}
					fmt.Fprintf(&sb, `{"name":"eth%d","type":"iana-if-type:ethernetCsmacd","oper-status":"up","statistics":%s}`, i, stats)
				}
				if shape == "list" {
					nt.Update = []*pb.Update{{Path: mustPath(b, "/ietf-interfaces:interfaces"), Val: jsonv(`{"interface":[` + sb.String() + `]}`)}}
				}
				raw, err := proto.Marshal(&pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: nt}})
				if err != nil {
					b.Fatal(err)
				}
				msgs = append(msgs, raw)
			}
			sb := publish.NewBatch(memory.NewGoAllocator(), "bench-device", schemas.SourceGNMI)
			defer sb.Release()
			d := newDecoder(b, sb, DecoderConfig{MaxRows: DefaultMaxRows, MaxBatchBytes: publish.DefaultMaxBatchBytes,
				Full: func() { sb.NewRecord().Release() }})
			b.SetBytes(int64(len(msgs[0])))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % len(msgs)
				if k == 0 {
					d.resetDedup()
				}
				if _, err := d.Decode(msgs[k], ts1); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if d.Stats().Samples == 0 {
				b.Fatal("no sample")
			}
		})
	}
}
