package gnmi

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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

// lldpCount is one published LLDP neighbour count: seconds after ts1,
// local port, count.
type lldpCount struct {
	sec  int64
	port string
	n    float64
}

// lldpCounts returns the LLDP neighbour counts among out, in order.
func lldpCounts(t *testing.T, out []schemas.Sample) []lldpCount {
	t.Helper()
	var got []lldpCount
	for _, s := range out {
		if s.Metric == schemas.MetricLLDPNeighbors {
			if (s.TS-ts1)%1e9 != 0 {
				t.Errorf("%+v: count stamped off the notifications' seconds", s)
			}
			got = append(got, lldpCount{(s.TS - ts1) / 1e9, strings.TrimPrefix(s.Keys, "name="), s.F64})
		}
	}
	return got
}

// sampled returns a sampled LLDP neighbour's notification at ts: its
// state container as the prefix, system-name and port-id.
func sampled(t *testing.T, ts int64, port, id string) *pb.SubscribeResponse {
	return notif(t, ts, "/lldp/interfaces/interface[name="+port+"]/neighbors/neighbor[id="+id+"]/state",
		upd(t, "system-name", strv(id)), upd(t, "port-id", strv("Ethernet7")))
}

// TestLLDPSampleNeighborAgesOut: a target sampling its LLDP neighbours
// every 10 s and sending no delete stops sending spine-01 after its
// fourth sample (at 30 s). Its port's count drops to 0 at the first
// notification that refreshes LLDP neighbours more than the hold time
// (3 × 10 s) after spine-01's last sample, stamped with that
// notification's time (70 s); the port still sampled keeps its count, and
// spine-01 sampled again counts 1 again. A target asked for 10 s that
// samples every 40 s gets the hold of its cadence: 3 × 40 s.
func TestLLDPSampleNeighborAgesOut(t *testing.T) {
	const sec = int64(1e9)
	for _, tc := range []struct {
		every int64 // seconds between samples
		want  []lldpCount
	}{
		{10, []lldpCount{{0, "Ethernet1", 1}, {0, "Ethernet2", 1}, {70, "Ethernet1", 0}, {100, "Ethernet1", 1}}},
		{40, []lldpCount{{0, "Ethernet1", 1}, {0, "Ethernet2", 1}, {280, "Ethernet1", 0}, {400, "Ethernet1", 1}}},
	} {
		var rs []*pb.SubscribeResponse
		for i := range int64(12) {
			ts := ts1 + i*tc.every*sec
			if i <= 3 || i >= 10 {
				rs = append(rs, sampled(t, ts, "Ethernet1", "spine-01"))
			}
			rs = append(rs, sampled(t, ts, "Ethernet2", "spine-02"))
		}
		out, d := decodeAll(t, DecoderConfig{ResendInterval: 10 * time.Second}, rs...)
		if got := lldpCounts(t, out); !slices.Equal(got, tc.want) {
			t.Errorf("every %d s: counts (seconds, port, count)\n%v, want\n%v", tc.every, got, tc.want)
		}
		if st := d.Stats(); st.Dropped != [len(st.Dropped)]uint64{} || st.LLDPAged != 1 {
			t.Errorf("stats %+v, want none dropped and 1 neighbour aged out", st)
		}
	}
}

// TestLLDPSampleNeighborKept: neighbours the target keeps sending are
// never aged out, however their samples come: timestamps jittered by up
// to ±4 s around a 10 s cycle and ports in any order; each leaf in its
// own notification, a millisecond apart; a target sampling every 30 s
// though asked for 10 s (the hold follows the cadence seen); a target
// that stamps a neighbour with its last change, not its sample time,
// while another neighbour comes and goes. Only the first counts, and the
// one of the neighbour that comes, are published.
func TestLLDPSampleNeighborKept(t *testing.T) {
	const sec = int64(1e9)
	leaves := func(ts int64, port, id string) []*pb.SubscribeResponse {
		pre := "/lldp/interfaces/interface[name=" + port + "]/neighbors/neighbor[id=" + id + "]/state"
		return []*pb.SubscribeResponse{notif(t, ts, pre, upd(t, "system-name", strv(id))),
			notif(t, ts+sec/1000, pre, upd(t, "port-id", strv("Ethernet7")))}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ports := []string{"Ethernet1", "Ethernet2", "Ethernet3"}
	initial := []lldpCount{{0, "Ethernet1", 1}, {0, "Ethernet2", 1}, {0, "Ethernet3", 1}}
	for _, tc := range []struct {
		name  string
		cycle func(i int64) []*pb.SubscribeResponse
		want  []lldpCount
	}{
		{"jitter", func(i int64) []*pb.SubscribeResponse {
			var rs []*pb.SubscribeResponse
			for _, j := range rng.Perm(len(ports)) {
				ts := ts1 + i*10*sec
				if i > 0 {
					ts += (rng.Int64N(9) - 4) * sec
				}
				rs = append(rs, sampled(t, ts, ports[j], "nbr-"+ports[j]))
			}
			return rs
		}, nil},
		{"leaf per notification", func(i int64) []*pb.SubscribeResponse {
			var rs []*pb.SubscribeResponse
			for _, p := range ports {
				rs = append(rs, leaves(ts1+i*10*sec, p, "nbr-"+p)...)
			}
			return rs
		}, nil},
		{"slower than asked", func(i int64) []*pb.SubscribeResponse {
			var rs []*pb.SubscribeResponse
			for _, p := range ports {
				rs = append(rs, sampled(t, ts1+i*30*sec+rng.Int64N(2)*sec, p, "nbr-"+p))
			}
			return rs
		}, nil},
		{"last-change stamps", func(i int64) []*pb.SubscribeResponse {
			rs := []*pb.SubscribeResponse{sampled(t, ts1, "Ethernet1", "nbr-Ethernet1"),
				sampled(t, ts1, "Ethernet2", "nbr-Ethernet2"), sampled(t, ts1, "Ethernet3", "nbr-Ethernet3")}
			if i == 50 {
				rs = append(rs, sampled(t, ts1+i*10*sec, "Ethernet4", "late"))
			}
			return rs
		}, []lldpCount{{500, "Ethernet4", 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rs []*pb.SubscribeResponse
			for i := range int64(200) {
				rs = append(rs, tc.cycle(i)...)
			}
			out, _ := decodeAll(t, DecoderConfig{ResendInterval: 10 * time.Second}, rs...)
			got := lldpCounts(t, out)
			if tc.name == "jitter" || tc.name == "slower than asked" {
				// The first cycle's counts come at their jittered second.
				for i := range got {
					if i < len(ports) {
						got[i].sec = 0
					}
				}
				slices.SortFunc(got[:min(len(got), len(ports))], func(a, b lldpCount) int { return strings.Compare(a.port, b.port) })
			}
			if want := append(slices.Clone(initial), tc.want...); !slices.Equal(got, want) {
				t.Errorf("counts (seconds, port, count)\n%v, want\n%v", got, want)
			}
		})
	}
}

// TestLLDPOnChangeNotAged: without a resend interval (an ON_CHANGE
// subscription: the target sends a neighbour once and deletes it when it
// goes), a neighbour sent once is kept however long another port's
// neighbours keep changing; its delete still lowers the count.
func TestLLDPOnChangeNotAged(t *testing.T) {
	const sec = int64(1e9)
	rs := []*pb.SubscribeResponse{sampled(t, ts1, "Ethernet1", "spine-01")}
	for i := range int64(100) {
		rs = append(rs, sampled(t, ts1+(i+1)*10*sec, "Ethernet2", "nbr-"+strconv.FormatInt(i%2, 10)))
	}
	rs = append(rs, &pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: &pb.Notification{Timestamp: ts1 + 2000*sec,
		Delete: []*pb.Path{mustPath(t, "/lldp/interfaces/interface[name=Ethernet1]/neighbors/neighbor[id=spine-01]")}}}})
	out, _ := decodeAll(t, DecoderConfig{}, rs...)
	want := []lldpCount{{0, "Ethernet1", 1}, {10, "Ethernet2", 1}, {20, "Ethernet2", 2}, {2000, "Ethernet1", 0}}
	if got := lldpCounts(t, out); !slices.Equal(got, want) {
		t.Errorf("counts (seconds, port, count)\n%v, want\n%v", got, want)
	}
}

// TestLLDPSampleReconnect: the stream fails and subscribes again ten
// minutes later (Decoder.Reconnected); the new subscription's first cycle
// is spread over 2 s. No neighbour still there is aged out for the
// minutes the stream was away, while the one lost meanwhile (Ethernet3's)
// is, a hold time after the new subscription's first sample. Then the
// device's clock steps five minutes forward, a cycle spread again: no
// neighbour is aged out.
func TestLLDPSampleReconnect(t *testing.T) {
	const sec = int64(1e9)
	d, b, decode := sampledStream(t)
	for i := range int64(6) {
		ts := ts1 + i*10*sec
		decode(sampled(t, ts, "Ethernet1", "spine-01"), sampled(t, ts, "Ethernet2", "spine-02"), sampled(t, ts, "Ethernet3", "spine-03"))
	}
	d.Reconnected()
	for i := range int64(10) {
		ts := ts1 + 600*sec + i*10*sec
		spread := int64(0)
		if i == 0 {
			spread = 2 * sec
		}
		decode(sampled(t, ts, "Ethernet2", "spine-02"), sampled(t, ts+spread, "Ethernet1", "spine-01"))
	}
	for i := range int64(10) {
		ts := ts1 + 1000*sec + i*10*sec
		spread := int64(0)
		if i == 0 {
			spread = 2 * sec
		}
		decode(sampled(t, ts, "Ethernet1", "spine-01"), sampled(t, ts+spread, "Ethernet2", "spine-02"))
	}
	rec := b.NewRecord()
	defer rec.Release()
	out, err := schemas.Samples(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []lldpCount{{0, "Ethernet1", 1}, {0, "Ethernet2", 1}, {0, "Ethernet3", 1}, {640, "Ethernet3", 0}}
	if got := lldpCounts(t, out); !slices.Equal(got, want) {
		t.Errorf("counts (seconds, port, count)\n%v, want\n%v", got, want)
	}
}

// TestLLDPSampleClockStepsBack: the device clock steps back an hour
// while its target samples LLDP every 10 s. The step starts the hold over
// like a resubscription: spine-02, sampled a few cycles after the step and
// then no more, is aged out within a hold time (3 × 10 s) of its last
// sample, at the first pass after it (80 s after the step); spine-01,
// still sampled, is kept. Before, the last aging pass and the neighbours'
// last samples stayed an hour ahead, so nothing aged until the clock
// caught up.
func TestLLDPSampleClockStepsBack(t *testing.T) {
	const sec = int64(1e9)
	d, b, decode := sampledStream(t)
	for i := range int64(6) {
		ts := ts1 + i*10*sec
		decode(sampled(t, ts, "Ethernet1", "spine-01"), sampled(t, ts, "Ethernet2", "spine-02"))
	}
	step := ts1 + 60*sec - 3600*sec // the next cycle, an hour back
	aged := -1
	for i := range int64(20) {
		ts := step + i*10*sec
		decode(sampled(t, ts, "Ethernet1", "spine-01"))
		if i < 5 { // last at 40 s after the step
			decode(sampled(t, ts, "Ethernet2", "spine-02"))
		}
		if aged < 0 && d.Stats().LLDPAged > 0 {
			aged = int(i)
		}
	}
	if aged != 8 {
		t.Errorf("spine-02 aged out at cycle %d after the step, want 8 (80 s: its last sample at 40 s + the hold, 30 s)", aged)
	}
	if n := d.Stats().LLDPAged; n != 1 {
		t.Errorf("%d neighbours aged out, want 1 (spine-02)", n)
	}
	if _, ok := d.lldp["Ethernet1"].ids["spine-01"]; !ok {
		t.Error("spine-01, still sampled, was aged out")
	}
	if p := d.lldp["Ethernet2"]; p != nil && len(p.ids) != 0 {
		t.Errorf("Ethernet2 still has %v", p.ids)
	}
	b.NewRecord().Release()
}

// TestLLDPSampleBounded: neighbours that come and go on ports that come
// and go (each port has a neighbour for three cycles, then none) leave
// the decoder no state of theirs once aged out: its LLDP ports, its series
// caches and their size estimate stay what the last few ports'
// neighbours take, and the caches are never reset.
func TestLLDPSampleBounded(t *testing.T) {
	const sec = int64(1e9)
	b := publish.NewBatch(memory.NewGoAllocator(), "dev1", schemas.SourceGNMI)
	defer b.Release()
	d := newDecoder(t, b, DecoderConfig{ResendInterval: 10 * time.Second})
	var early int
	for i := range int64(2000) {
		for p := max(i-2, 0); p <= i; p++ {
			r := sampled(t, ts1+i*10*sec, "Ethernet"+strconv.FormatInt(p, 10), "nbr-"+strconv.FormatInt(p, 10))
			if _, err := d.DecodeResponse(r, 42); err != nil {
				t.Fatal(err)
			}
		}
		if i == 20 {
			early = d.cacheBytes
		}
		if i%100 == 99 {
			b.NewRecord().Release()
		}
	}
	if n := len(d.lldp); n > 12 {
		t.Errorf("%d LLDP ports kept, want the few of the last cycles", n)
	}
	if n := len(d.canon); n > 2*12 {
		t.Errorf("%d series cached, want the few of the last cycles' neighbours", n)
	}
	if d.cacheBytes > early+early/4 || d.Stats().CacheResets != 0 {
		t.Errorf("cache estimate %d bytes after 2000 cycles, %d after 20; %d resets", d.cacheBytes, early, d.Stats().CacheResets)
	}
}

// TestDecodeLLDPAgingNoAllocation: sampled neighbours refreshed cycle
// after cycle, with the aging passes that come with them and with the
// interface counters' notifications between them (which age neighbours
// too), cost no allocation.
func TestDecodeLLDPAgingNoAllocation(t *testing.T) {
	const sec = int64(1e9)
	var raws [][]byte
	for i := range int64(400) {
		ts := ts1 + i*10*sec
		for _, r := range []*pb.SubscribeResponse{sampled(t, ts, "Ethernet1", "nbr-Ethernet1"),
			counters(t, ts+5*sec, "Ethernet1", uint64(i)), sampled(t, ts, "Ethernet2", "nbr-Ethernet2")} {
			raw, err := proto.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			raws = append(raws, raw)
		}
	}
	b := publish.NewBatch(memory.NewGoAllocator(), "dev1", schemas.SourceGNMI)
	defer b.Release()
	d := newDecoder(t, b, DecoderConfig{ResendInterval: 10 * time.Second})
	next := 0
	decode := func() {
		if _, err := d.Decode(raws[next], ts1); err != nil {
			t.Fatal(err)
		}
		next++
	}
	for range 60 { // past the first cycles' learning
		decode()
	}
	b.NewRecord().Release()
	if n := testing.AllocsPerRun(100, func() { decode(); decode(); decode() }); n != 0 {
		t.Errorf("%v allocations per cycle of sampled LLDP neighbours", n)
	}
}

// sampledStream returns a decoder of a SAMPLE stream every 10 s into
// batch b (released, and its memory checked, when the test ends), and
// decode, which feeds it responses.
func sampledStream(t *testing.T) (d *Decoder, b *publish.Batch, decode func(...*pb.SubscribeResponse)) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	b = publish.NewBatch(mem, "dev1", schemas.SourceGNMI)
	t.Cleanup(b.Release)
	d = newDecoder(t, b, DecoderConfig{ResendInterval: 10 * time.Second})
	return d, b, func(rs ...*pb.SubscribeResponse) {
		t.Helper()
		for _, r := range rs {
			if _, err := d.DecodeResponse(r, 42); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestLLDPLastNeighborAgesOut: a target sampling its interface counters
// and its only LLDP neighbour every 10 s, with no delete, stops sampling
// the neighbour after 30 s (its last link went down) while its counters go
// on. The port's count drops to 0 at the first notification more than the
// hold time (3 × 10 s) after the neighbour's last sample, whatever it
// carries: the counters' at 70 s. Before, aging waited for an LLDP sample
// that never came. After a resubscription whose target never sends the
// neighbour again, it ages out a hold time after the new subscription's
// first notification. Either way the port, without a neighbour for a
// hold time, is forgotten: the counters' notifications then carry no
// LLDP work.
func TestLLDPLastNeighborAgesOut(t *testing.T) {
	const sec = int64(1e9)
	for _, reconnect := range []bool{false, true} {
		d, b, decode := sampledStream(t)
		for i := range int64(30) {
			ts := ts1 + i*10*sec
			if reconnect && i == 2 {
				d.Reconnected()
				ts += 600 * sec
			} else if reconnect && i > 2 {
				ts += 600 * sec
			}
			if i <= 3 && !(reconnect && i >= 2) {
				decode(sampled(t, ts, "Ethernet1", "spine-01"))
			}
			decode(counters(t, ts, "Ethernet1", uint64(i)))
		}
		rec := b.NewRecord()
		out, err := schemas.Samples(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		want := []lldpCount{{0, "Ethernet1", 1}, {70, "Ethernet1", 0}}
		if reconnect { // last sampled at 10 s; subscribed again at 620 s
			want[1].sec = 660
		}
		if got := lldpCounts(t, out); !slices.Equal(got, want) {
			t.Errorf("reconnect %v: counts (seconds, port, count)\n%v, want\n%v", reconnect, got, want)
		}
		if n := d.Stats().LLDPAged; n != 1 || len(d.lldp) != 0 {
			t.Errorf("reconnect %v: %d neighbours aged out, %d LLDP ports kept; want 1 and none", reconnect, n, len(d.lldp))
		}
	}
}

// TestLLDPIdleAgingGuards: the interface counters' notifications age
// LLDP neighbours under the guards of the LLDP samples. Each case samples
// spine-01 on Ethernet1 and the counters every 10 s (the counters 2 s
// after the neighbour in each cycle) and checks the neighbours aged out:
//   - the device's clock steps five minutes forward, its counters the
//     first to show it: the hold starts over, no neighbour is aged;
//   - a target that samples LLDP every 40 s though asked for 10 s: the
//     hold follows its cadence (3 × 40 s), no neighbour is aged;
//   - the clock steps an hour back, its counters the first to show it,
//     and spine-01 is last sampled 20 s after the step: it ages out at
//     the first counters more than 3 × 10 s after that (32 s), not once
//     the clock has caught up.
func TestLLDPIdleAgingGuards(t *testing.T) {
	const sec = int64(1e9)
	for _, tc := range []struct {
		name  string
		lldp  func(i int64) bool  // spine-01 is sampled in cycle i
		at    func(i int64) int64 // cycle i's time, seconds after ts1
		aged  uint64
		count []lldpCount
	}{
		{"clock steps forward", func(int64) bool { return true },
			func(i int64) int64 { return i*10 + 300*min(i/10, 1) }, 0, []lldpCount{{0, "Ethernet1", 1}}},
		{"slow LLDP cadence", func(i int64) bool { return i%4 == 0 },
			func(i int64) int64 { return i * 10 }, 0, []lldpCount{{0, "Ethernet1", 1}}},
		{"clock steps back", func(i int64) bool { return i <= 12 },
			func(i int64) int64 { return i*10 - 3600*min(i/10, 1) }, 1, []lldpCount{{0, "Ethernet1", 1}, {-3600 + 152, "Ethernet1", 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, b, decode := sampledStream(t)
			for i := range int64(30) {
				ts := ts1 + tc.at(i)*sec
				if i == 10 { // the counters show the step first
					decode(counters(t, ts+2*sec, "Ethernet1", uint64(i)))
					if tc.lldp(i) {
						decode(sampled(t, ts, "Ethernet1", "spine-01"))
					}
					continue
				}
				if tc.lldp(i) {
					decode(sampled(t, ts, "Ethernet1", "spine-01"))
				}
				decode(counters(t, ts+2*sec, "Ethernet1", uint64(i)))
			}
			rec := b.NewRecord()
			out, err := schemas.Samples(rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			var got []lldpCount
			for _, s := range out {
				if s.Metric == schemas.MetricLLDPNeighbors {
					got = append(got, lldpCount{(s.TS - ts1) / sec, strings.TrimPrefix(s.Keys, "name="), s.F64})
				}
			}
			if !slices.Equal(got, tc.count) || d.Stats().LLDPAged != tc.aged {
				t.Errorf("counts (seconds, port, count) %v, %d aged; want %v, %d", got, d.Stats().LLDPAged, tc.count, tc.aged)
			}
		})
	}
}
