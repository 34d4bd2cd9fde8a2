package gnmi

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// legacyUpd is an update carrying the deprecated Update.value.
func legacyUpd(t *testing.T, path, val string, enc pb.Encoding) *pb.Update {
	//lint:ignore SA1019 the deprecated Value is what is tested
	return &pb.Update{Path: mustPath(t, path), Value: &pb.Value{Value: []byte(val), Type: enc}}
}

// TestLegacyValue decodes the deprecated Update.value: JSON_IETF and ASCII
// values are published, other encodings dropped as unsupported.
func TestLegacyValue(t *testing.T) {
	r := notif(t, ts1, "/interfaces/interface[name=Ethernet1]/state",
		legacyUpd(t, "counters/in-octets", ` "12345" `, pb.Encoding_JSON_IETF),
		legacyUpd(t, "oper-status", "UP", pb.Encoding_ASCII),
		legacyUpd(t, "counters/out-octets", "x", pb.Encoding_BYTES),
	)
	out, d := decodeAll(t, DecoderConfig{}, r)
	checkSamples(t, out, []schemas.Sample{
		{Metric: schemas.MetricInOctets, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: 12345},
		{Metric: schemas.MetricOperStatus, Keys: "name=Ethernet1", Kind: schemas.KindState, Str: "UP"},
	})
	if st := d.Stats(); st.DroppedFor(DropUnsupported) != 1 || st.Updates != 3 {
		t.Fatalf("stats: %+v", st)
	}
}

// TestLegacyValueMalformed: a deprecated Value whose bytes field runs past
// its end is dropped as malformed and the next update is kept.
func TestLegacyValueMalformed(t *testing.T) {
	path := func(leaf string) []byte {
		p := protowire.AppendTag(nil, 3, protowire.BytesType) // Path.elem
		return protowire.AppendBytes(p, protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte(leaf)))
	}
	update := func(leaf string, value []byte) []byte {
		u := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), path(leaf))
		return protowire.AppendBytes(protowire.AppendTag(u, 2, protowire.BytesType), value)
	}
	good := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte(`7`))
	good = protowire.AppendVarint(protowire.AppendTag(good, 2, protowire.VarintType), uint64(pb.Encoding_JSON_IETF))
	bad := append(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.BytesType), 10), "ab"...) // 10 bytes announced, 2 there
	n := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), uint64(ts1))
	n = protowire.AppendBytes(protowire.AppendTag(n, 4, protowire.BytesType), update("in-errors", bad))
	n = protowire.AppendBytes(protowire.AppendTag(n, 4, protowire.BytesType), update("in-discards", good))
	raw := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), n)

	b := publish.NewBatch(memory.NewGoAllocator(), "dev1", schemas.SourceGNMI)
	defer b.Release()
	d := newDecoder(t, b, DecoderConfig{})
	if _, err := d.Decode(raw, 0); err != nil {
		t.Fatal(err)
	}
	if st := d.Stats(); st.DroppedFor(DropMalformed) != 1 || b.Len() != 1 {
		t.Fatalf("stats %+v, %d rows; want 1 malformed and 1 row", st, b.Len())
	}
	rec := b.NewRecord()
	defer rec.Release()
	out, err := schemas.Samples(rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Metric != "/in-discards" || out[0].U64 != 7 {
		t.Fatalf("samples %+v", out)
	}
}
