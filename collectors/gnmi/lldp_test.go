package gnmi

import (
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// TestDecodeLLDPNeighbors decodes LLDP neighbour notifications as devices
// send them (openconfig-lldp, PROTO and JSON_IETF) and checks that
// system-name and port-id come out under the vocabulary's names, as state
// samples with the keys schemas.LLDPNeighborKeys gives, whatever the
// prefix split and origin; the neighbour's other leaves keep their own
// paths. Each port's first neighbour publishes its count, 1.
func TestDecodeLLDPNeighbors(t *testing.T) {
	const state = "/lldp/interfaces/interface/neighbors/neighbor/state/"
	keys := schemas.LLDPNeighborKeys("Ethernet1", "spine-01")
	// An OpenConfig notification per neighbour, as EOS and SR Linux send
	// it: the neighbour's state container as the prefix.
	oc := notif(t, ts1, "/lldp/interfaces/interface[name=Ethernet1]/neighbors/neighbor[id=spine-01]/state",
		upd(t, "system-name", strv("spine-01")),
		upd(t, "port-id", strv("Ethernet7")),
		upd(t, "chassis-id", strv("00:1c:73:aa:bb:01")),
		upd(t, "chassis-id-type", strv("MAC_ADDRESS")),
		upd(t, "port-id-type", strv("INTERFACE_NAME")),
		upd(t, "ttl", &pb.TypedValue{Value: &pb.TypedValue_UintVal{UintVal: 120}}),
	)
	// IOS-XR names the YANG module as the origin, keys the neighbour by
	// an opaque id, and its interface names hold slashes.
	xr := notif(t, ts1, "openconfig-lldp:/lldp/interfaces/interface[name=HundredGigE0/0/0/1]",
		upd(t, "neighbors/neighbor[id=spine-02_Hu0/0/0/5]/state/system-name", strv("spine-02")),
		upd(t, "neighbors/neighbor[id=spine-02_Hu0/0/0/5]/state/port-id", strv("HundredGigE0/0/0/5")),
	)
	// JSON_IETF: the state container as one value, module-qualified (its
	// members come out in name order).
	js := notif(t, ts1, "/lldp/interfaces/interface[name=Ethernet2]/neighbors/neighbor[id=00:1c:73:aa:bb:03]",
		upd(t, "state", jsonv(`{"openconfig-lldp:system-name":"spine-03","openconfig-lldp:port-id":"Ethernet9"}`)),
	)
	out, d := decodeAll(t, DecoderConfig{}, oc, xr, js)
	want := []schemas.Sample{
		{Metric: schemas.MetricLLDPNeighborSystemName, Keys: keys, Kind: schemas.KindState, Str: "spine-01"},
		{Metric: schemas.MetricLLDPNeighborPortID, Keys: keys, Kind: schemas.KindState, Str: "Ethernet7"},
		{Metric: state + "chassis-id", Keys: keys, Kind: schemas.KindState, Str: "00:1c:73:aa:bb:01"},
		{Metric: state + "chassis-id-type", Keys: keys, Kind: schemas.KindState, Str: "MAC_ADDRESS"},
		{Metric: state + "port-id-type", Keys: keys, Kind: schemas.KindState, Str: "INTERFACE_NAME"},
		{Metric: state + "ttl", Keys: keys, Kind: schemas.KindGauge, F64: 120},
		{Metric: schemas.MetricLLDPNeighbors, Keys: "name=Ethernet1", Kind: schemas.KindGauge, F64: 1},
		{Metric: schemas.MetricLLDPNeighborSystemName, Keys: schemas.LLDPNeighborKeys("HundredGigE0/0/0/1", "spine-02_Hu0/0/0/5"), Kind: schemas.KindState, Str: "spine-02"},
		{Metric: schemas.MetricLLDPNeighborPortID, Keys: schemas.LLDPNeighborKeys("HundredGigE0/0/0/1", "spine-02_Hu0/0/0/5"), Kind: schemas.KindState, Str: "HundredGigE0/0/0/5"},
		{Metric: schemas.MetricLLDPNeighbors, Keys: "name=HundredGigE0/0/0/1", Kind: schemas.KindGauge, F64: 1},
		{Metric: schemas.MetricLLDPNeighborPortID, Keys: schemas.LLDPNeighborKeys("Ethernet2", "00:1c:73:aa:bb:03"), Kind: schemas.KindState, Str: "Ethernet9"},
		{Metric: schemas.MetricLLDPNeighborSystemName, Keys: schemas.LLDPNeighborKeys("Ethernet2", "00:1c:73:aa:bb:03"), Kind: schemas.KindState, Str: "spine-03"},
		{Metric: schemas.MetricLLDPNeighbors, Keys: "name=Ethernet2", Kind: schemas.KindGauge, F64: 1},
	}
	checkSamples(t, out, want)
	for _, s := range out {
		if s.Metric != schemas.MetricLLDPNeighborSystemName && s.Metric != schemas.MetricLLDPNeighborPortID {
			continue
		}
		port, id, ok := schemas.ParseLLDPNeighborKeys(s.Keys)
		if !ok || port == "" || id == "" {
			t.Errorf("%s %q: ParseLLDPNeighborKeys = %q, %q, %v", s.Metric, s.Keys, port, id, ok)
		}
	}
	if st := d.Stats(); st.Dropped != [len(st.Dropped)]uint64{} {
		t.Errorf("dropped %+v", st)
	}
}

// TestDecodeLLDPNeighborCount decodes a port's LLDP neighbours coming and
// going: the port's neighbour count is published, at the notification's
// time, when a new neighbour id shows up or a delete takes one away (its
// list entry, its state container, its interface's subtree, all of
// /lldp), and only then: a neighbour sent again, another leaf deleted or
// a delete elsewhere publish none.
func TestDecodeLLDPNeighborCount(t *testing.T) {
	const sec = int64(1e9)
	nbr := func(ts int64, port, id string) *pb.SubscribeResponse {
		return notif(t, ts, "/lldp/interfaces/interface[name="+port+"]/neighbors/neighbor[id="+id+"]/state",
			upd(t, "system-name", strv(id)), upd(t, "port-id", strv("Ethernet7")))
	}
	del := func(ts int64, prefix string, paths ...string) *pb.SubscribeResponse {
		n := &pb.Notification{Timestamp: ts}
		if prefix != "" {
			n.Prefix = mustPath(t, prefix)
		}
		for _, p := range paths {
			n.Delete = append(n.Delete, mustPath(t, p))
		}
		return &pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: n}}
	}
	out, d := decodeAll(t, DecoderConfig{},
		nbr(ts1, "Ethernet1", "spine-01"),
		nbr(ts1+10*sec, "Ethernet1", "spine-01"), // the same neighbour again
		nbr(ts1+20*sec, "Ethernet1", "spine-02"), // a second one on the port
		nbr(ts1+20*sec, "Ethernet2", "spine-03"),
		del(ts1+30*sec, "/lldp/interfaces/interface[name=Ethernet1]/neighbors", "neighbor[id=spine-01]"),
		del(ts1+40*sec, "", "/lldp/interfaces/interface[name=Ethernet1]/neighbors/neighbor[id=spine-02]/state/port-id"), // a leaf: no loss
		del(ts1+50*sec, "", "/interfaces/interface[name=Ethernet1]"),                                                    // not LLDP
		del(ts1+60*sec, "", "/lldp/interfaces/interface[name=Ethernet1]"),
		nbr(ts1+70*sec, "Ethernet1", "spine-01"), // back
		del(ts1+80*sec, "", "/lldp/interfaces/interface[name=Ethernet1]/neighbors/neighbor[id=spine-01]/state"),
		del(ts1+90*sec, "", "/lldp"),
	)
	type count struct {
		sec  int64
		port string
		n    float64
	}
	var got []count
	for _, s := range out {
		if s.Metric == schemas.MetricLLDPNeighbors {
			if s.Kind != schemas.KindGauge || !strings.HasPrefix(s.Keys, "name=") {
				t.Fatalf("%+v: want a gauge keyed name=PORT", s)
			}
			got = append(got, count{(s.TS - ts1) / sec, strings.TrimPrefix(s.Keys, "name="), s.F64})
		}
	}
	want := []count{{0, "Ethernet1", 1}, {20, "Ethernet1", 2}, {20, "Ethernet2", 1}, {30, "Ethernet1", 1},
		{60, "Ethernet1", 0}, {70, "Ethernet1", 1}, {80, "Ethernet1", 0}, {90, "Ethernet2", 0}}
	if !slices.Equal(got, want) {
		t.Errorf("counts (seconds, port, count)\n%v, want\n%v", got, want)
	}
	if st := d.Stats(); st.Deletes != 6 || st.Dropped != [len(st.Dropped)]uint64{} {
		t.Errorf("stats %+v", st)
	}
}

// TestDefaultSubscription checks that a config without subscriptions
// subscribes to the LLDP neighbours and the BGP and BFD session states
// besides the interfaces and components, in one STREAM SAMPLE list.
func TestDefaultSubscription(t *testing.T) {
	c := Config{Targets: []Target{{Name: "r1", Address: "127.0.0.1:57400"}}}.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Subscriptions) != 1 {
		t.Fatalf("%d default subscriptions, want 1", len(c.Subscriptions))
	}
	req := c.Subscriptions[0].request().GetSubscribe()
	if req.GetMode() != pb.SubscriptionList_STREAM {
		t.Fatalf("mode %v", req.GetMode())
	}
	var paths []string
	for _, s := range req.GetSubscription() {
		if s.GetMode() != pb.SubscriptionMode_SAMPLE || s.GetSampleInterval() != uint64(DefaultSampleInterval) {
			t.Errorf("%s: mode %v every %d ns, want SAMPLE every %v", FormatPath(s.GetPath()), s.GetMode(), s.GetSampleInterval(), DefaultSampleInterval)
		}
		paths = append(paths, FormatPath(s.GetPath()))
	}
	for _, want := range []string{"/interfaces/interface/state", "/components/component",
		"/lldp/interfaces/interface/neighbors/neighbor/state", schemas.MetricBGPSessionState, schemas.MetricBFDSessionState} {
		if !slices.Contains(paths, want) {
			t.Errorf("default subscription lacks %s: %v", want, paths)
		}
	}
	// Callers get their own slice.
	DefaultPaths()[0] = "changed"
	if DefaultPaths()[0] != "/interfaces/interface/state" {
		t.Error("DefaultPaths shares its slice")
	}
}

// TestDecodeLLDPNoAllocation: a neighbour sent again (here the same
// response, its samples duplicates) costs the count no allocation.
func TestDecodeLLDPNoAllocation(t *testing.T) {
	raw, err := proto.Marshal(notif(t, ts1, "/lldp/interfaces/interface[name=Ethernet1]/neighbors/neighbor[id=spine-01]/state",
		upd(t, "system-name", strv("spine-01")), upd(t, "port-id", strv("Ethernet7"))))
	if err != nil {
		t.Fatal(err)
	}
	b := publish.NewBatch(memory.NewGoAllocator(), "dev1", schemas.SourceGNMI)
	defer b.Release()
	d := newDecoder(t, b, DecoderConfig{})
	if _, err := d.Decode(raw, ts1); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = d.Decode(raw, ts1) }); n != 0 {
		t.Errorf("%v allocations per LLDP notification sent again", n)
	}
	if got := d.Stats().Samples; got != 3 { // 2 leaves and the count, once
		t.Errorf("%d samples, want 3", got)
	}
}
