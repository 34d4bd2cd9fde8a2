//lint:file-ignore SA1019 the seeds cover the deprecated fields older targets still send

package gnmi

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// FuzzDecode feeds arbitrary bytes to the decoder as a SubscribeResponse
// from a device, seeded with responses of every value encoding. Whatever
// it accepts, with a target's default time bounds, it publishes samples
// every stage keeps: the batch encodes,
// decodes as a samples message, and schemas.CleanSamples drops none of
// its rows (no bad time, invalid UTF-8 or empty name gets through), and no
// allocation leaks.
func FuzzDecode(f *testing.F) {
	for _, r := range []*pb.SubscribeResponse{
		notif(f, ts1, "/interfaces/interface[name=Ethernet1]/state",
			upd(f, "counters/in-octets", u64v(1<<62+12345)),
			upd(f, "counters/in-errors", &pb.TypedValue{Value: &pb.TypedValue_IntVal{IntVal: 7}}),
			upd(f, "oper-status", strv("UP"))),
		notif(f, ts1, "/components",
			upd(f, "component[name=CPU]/state/temperature/instant", &pb.TypedValue{Value: &pb.TypedValue_DecimalVal{DecimalVal: &pb.Decimal64{Digits: 4530, Precision: 1}}}),
			upd(f, "component[name=PSU1]/power-supply/state/output-power", &pb.TypedValue{Value: &pb.TypedValue_BytesVal{BytesVal: f32bytes(312.5)}}),
			upd(f, "component[name=PSU1]/power-supply/state/input-voltage", &pb.TypedValue{Value: &pb.TypedValue_BytesVal{BytesVal: f32bytes(230.1)}}),
			upd(f, "component[name=PSU1]/power-supply/state/input-current", &pb.TypedValue{Value: &pb.TypedValue_BytesVal{BytesVal: f32bytes(1.5)}}),
			upd(f, "component[name=Ethernet1]/transceiver/state/input-power/instant", &pb.TypedValue{Value: &pb.TypedValue_DoubleVal{DoubleVal: -3.25}})),
		notif(f, ts1, "/interfaces",
			upd(f, "interface[name=Ethernet2]", jsonv(`{"state":{"oper-status":"DOWN","counters":{"in-octets":"12","out-octets":34}}}`))),
		{Response: &pb.SubscribeResponse_Update{Update: &pb.Notification{Timestamp: ts1,
			Delete: []*pb.Path{mustPath(f, "/interfaces/interface[name=Ethernet1]")}}}},
		{Response: &pb.SubscribeResponse_SyncResponse{SyncResponse: true}},
	} {
		raw, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		b := publish.NewBatch(mem, "dev1", schemas.SourceGNMI)
		defer b.Release()
		// The bounds a target gets by default; with them off (a replay of
		// an old capture) a time outside the stages' window is theirs to drop.
		d := newDecoder(t, b, DecoderConfig{MaxPast: DefaultMaxPast, MaxFuture: DefaultMaxFuture})
		_, _ = d.Decode(raw, ts1) // an error is the response's; what it decoded stays
		rec := b.NewRecord()
		if rec == nil {
			return
		}
		defer rec.Release()
		val, err := schemas.EncodeSamples(nil, rec)
		if err != nil {
			t.Fatalf("cannot encode what the decoder published: %v", err)
		}
		back, err := schemas.DecodeSamplesValue(mem, val)
		if err != nil {
			t.Fatalf("a stage cannot decode what the decoder published: %v", err)
		}
		defer back.Release()
		clean, drops := schemas.CleanSamples(mem, back)
		clean.Release()
		if drops.Total() != 0 {
			got, _ := schemas.Samples(back)
			t.Fatalf("the stages drop %+v of the %d rows the decoder published: %+v", drops, len(got), got)
		}
	})
}
