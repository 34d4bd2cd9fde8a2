package gnmi

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// TestBadValuesPerValue: invalid UTF-8 in a value is repaired and counted,
// a path with invalid UTF-8 is dropped and counted, and notifications stamped outside the window
// (0, −1, year 2188, two days ahead, 21 years ago) are dropped and counted
// per value, while every valid sample around them is published, a capture
// nine years old among them.
func TestBadValuesPerValue(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC).UnixNano()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := publish.NewBatch(mem, "dev1", schemas.SourceGNMI)
	defer b.Release()
	d := newDecoder(t, b, DecoderConfig{MaxPast: DefaultMaxPast, MaxFuture: DefaultMaxFuture})
	// proto.Marshal refuses invalid UTF-8, so the bytes are patched after
	// encoding ("UPZZ" and "EthZZ" become invalid sequences).
	invalid := func(r *pb.SubscribeResponse) []byte {
		raw, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.ReplaceAll(raw, []byte("ZZ"), []byte{0xff, 0xfe})
	}
	good := func(ts int64) []byte {
		return invalid(notif(t, ts, "/interfaces/interface[name=Eth1]/state",
			upd(t, "counters/in-octets", u64v(uint64(ts%1000))), upd(t, "oper-status", strv("UPZZ")),
			upd(t, "/interfaces/interface[name=EthZZ]/state/oper-status", strv("UP"))))
	}
	year2188 := time.Date(2188, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	const year = 365 * 24 * int64(time.Hour)
	stamps := []int64{now - 300*24*int64(time.Hour), 0, -1, year2188, now, now + 2*24*int64(time.Hour), now - 21*year, now + 1, now - 9*year}
	for _, ts := range stamps {
		if _, err := d.Decode(good(ts), now); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	got, err := schemas.Samples(rec)
	if err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	if len(got) != 8 || st.Samples != 8 || st.DroppedFor(DropBadTime) != 10 || st.DroppedFor(DropBadPath) != 9 {
		t.Fatalf("%d samples (stats %+v), want 8 published, 10 dropped as %s and 9 as %s", len(got), st, DropBadTime, DropBadPath)
	}
	for _, s := range got {
		if s.Keys != "name=Eth1" || (s.Kind == schemas.KindState && s.Str != "UP\uFFFD") {
			t.Fatalf("sample not repaired: %+v", s)
		}
		if s.TS != now && s.TS != now+1 && s.TS != now-300*24*int64(time.Hour) && s.TS != now-9*year {
			t.Fatalf("sample with a rejected timestamp: %+v", s)
		}
	}
	if st.Repaired != 4 {
		t.Fatalf("repaired %d, want the 4 published state values", st.Repaired)
	}
}

// TestCacheLimit: a target that sends ever new paths keeps the decoder's
// caches under the limit (they start over), and deduplication still works
// for the series seen since.
func TestCacheLimit(t *testing.T) {
	mem := memory.NewGoAllocator()
	b := publish.NewBatch(mem, "dev1", schemas.SourceGNMI)
	defer b.Release()
	const limit = 1 << 20
	d := newDecoder(t, b, DecoderConfig{MaxCacheBytes: limit, MaxRows: 1000, MaxBatchBytes: 1 << 20, Full: func() { b.NewRecord().Release() }})
	for i := range 200 {
		var ups []*pb.Update
		for j := range 100 {
			ups = append(ups, &pb.Update{Path: &pb.Path{Elem: []*pb.PathElem{{Name: "components"},
				{Name: "component", Key: map[string]string{"name": fmt.Sprintf("sensor-%d", i*100+j)}},
				{Name: "state"}, {Name: "temperature"}, {Name: "instant"}}}, Val: u64v(1)})
		}
		if _, err := d.DecodeResponse(notif(t, ts1, "", ups...), 0); err != nil {
			t.Fatal(err)
		}
		if d.cacheBytes > limit {
			t.Fatalf("cache estimate %d above the limit %d", d.cacheBytes, limit)
		}
	}
	if st := d.Stats(); st.CacheResets == 0 || st.Samples != 200*100 {
		t.Fatalf("stats %+v: want cache resets and every sample", st)
	}
	if _, err := d.DecodeResponse(notif(t, ts1, "", upd(t, "/a/b", u64v(1))), 0); err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	before := st.DroppedFor(DropDuplicate)
	if _, err := d.DecodeResponse(notif(t, ts1, "", upd(t, "/a/b", u64v(1))), 0); err != nil {
		t.Fatal(err)
	}
	if st = d.Stats(); st.DroppedFor(DropDuplicate) != before+1 {
		t.Fatal("a repeated sample after a cache reset was not dropped as a duplicate")
	}
}
