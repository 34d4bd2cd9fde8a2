package gnmi

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// TestDeleteNestedSameList: a list nested in a list of the same element
// and key names (a recursive group[name]/groups/group[name], as some
// vendor models have) has its keys written "name=A,group.name=B", and a
// deeper one's "group.name=C" too: the qualified name alone does not tell
// which group a key is of, its place among them does. A delete of the
// outer group (every key named, as before the wildcards; or one of the
// inner group) forgets the series it names. A list named like a container
// above it (macsec's scsa-tx/scsa-tx[sci-tx]) reads as before.
func TestDeleteNestedSameList(t *testing.T) {
	const (
		g2 = "/groups/group[name=%s]/groups/group[name=%s]/state/count"
		g3 = "/groups/group[name=%s]/groups/group[name=%s]/groups/group[name=%s]/state/count"
		ni = "/network-instances/network-instance[name=%s]/groups/group[name=%s]/state/count"
		sc = "/macsec/interfaces/interface[name=%s]/scsa-tx/scsa-tx[sci-tx=%s]/state/count"
	)
	paths := []string{
		fmt.Sprintf(g2, "A", "B"), fmt.Sprintf(g2, "A", "C"), fmt.Sprintf(g2, "B", "A"),
		fmt.Sprintf(g3, "A", "B", "C"), fmt.Sprintf(g3, "B", "A", "C"),
		fmt.Sprintf(ni, "A", "B"), fmt.Sprintf(ni, "B", "A"),
		fmt.Sprintf(sc, "eth0", "1"), fmt.Sprintf(sc, "eth1", "1"),
	}
	for _, tc := range []struct {
		del  string
		gone []int // indexes in paths
	}{
		{"/groups/group[name=A]", []int{0, 1, 3}}, // every key: as before
		{"/groups/group[name=A]/groups/group[name=B]", []int{0, 3}},
		{"/groups/group[name=A]/groups/group", []int{0, 1, 3}},
		{"/groups/group/groups/group[name=A]", []int{2, 4}},
		{"/groups/group/groups/group[name=B]", []int{0, 3}},
		{"/groups/group/groups/group/groups/group[name=C]", []int{3, 4}},
		{"/groups/group[name=B]/groups/group/groups/group[name=C]", []int{4}},
		{"/network-instances/network-instance/groups/group[name=A]", []int{6}},
		{"/network-instances/network-instance[name=A]", []int{5}},
		{"/macsec/interfaces/interface/scsa-tx/scsa-tx[sci-tx=1]", []int{7, 8}},
		{"/macsec/interfaces/interface[name=eth0]", []int{7}},
	} {
		t.Run(strings.ReplaceAll(tc.del, "/", "_"), func(t *testing.T) {
			var ups []*pb.Update
			for _, p := range paths {
				ups = append(ups, upd(t, p, u64v(7)))
			}
			out, _ := decodeAll(t, DecoderConfig{}, notif(t, ts1, "", ups...), deleteAt(t, ts1+1, tc.del), notif(t, ts1, "", ups...))
			if again := republished(out[len(paths):], paths); !slices.Equal(again, tc.gone) {
				t.Errorf("published again (forgotten): %v, want %v", again, tc.gone)
			}
		})
	}
}

// TestLLDPCountAfterBadTimestamp: a delete in a notification whose
// timestamp is out of bounds (48 h ahead) changes the port's neighbours
// but its count is dropped with the notification's samples; the port's
// next change, in a good notification (B replaced by C), must publish the
// count even though it equals the dropped one: what was published last is
// 2. The count compared is the last one published, not the last one
// computed.
func TestLLDPCountAfterBadTimestamp(t *testing.T) {
	const sec = int64(1e9)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := publish.NewBatch(mem, "dev1", schemas.SourceGNMI)
	defer b.Release()
	d := newDecoder(t, b, DecoderConfig{MaxPast: DefaultMaxPast, MaxFuture: DefaultMaxFuture})
	nbr := "/lldp/interfaces/interface[name=Ethernet1]/neighbors/neighbor[id=%s]"
	del := func(ts int64, ids ...string) *pb.SubscribeResponse {
		n := &pb.Notification{Timestamp: ts}
		for _, id := range ids {
			n.Delete = append(n.Delete, mustPath(t, fmt.Sprintf(nbr, id)))
		}
		return &pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: n}}
	}
	good2 := del(ts1+20*sec, "B")
	good2.GetUpdate().Update = []*pb.Update{upd(t, fmt.Sprintf(nbr, "C")+"/state/system-name", strv("C"))}
	for _, r := range []struct {
		r    *pb.SubscribeResponse
		recv int64
	}{
		{notif(t, ts1, "", upd(t, fmt.Sprintf(nbr, "A")+"/state/system-name", strv("A")),
			upd(t, fmt.Sprintf(nbr, "B")+"/state/system-name", strv("B"))), ts1},
		{del(ts1+48*3600*sec, "A"), ts1 + 10*sec},
		{good2, ts1 + 20*sec},
	} {
		if _, err := d.DecodeResponse(r.r, r.recv); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecord()
	defer rec.Release()
	out, err := schemas.Samples(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lldpCounts(t, out), []lldpCount{{0, "Ethernet1", 2}, {20, "Ethernet1", 1}}; !slices.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
}
