package inventory

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// nb is one LLDP neighbour as device reports it on port, at t0+sec: the
// system name and port id samples (an empty system name says it is gone).
type nb struct {
	sec                        int
	device, port, system, peer string
}

// lldpMessage returns a samples message holding the neighbours' samples
// and, before them, a counter sample the stage must ignore.
func lldpMessage(t testing.TB, ns ...nb) *kgo.Record {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := schemas.NewSampleBuilder(mem)
	defer b.Release()
	b.Append(&schemas.Sample{TS: t0.UnixNano(), Device: "spine1", Metric: "/interfaces/interface/state/counters/in-octets",
		Keys: "name=e3", Kind: schemas.KindCounter, U64: 1, Source: "gnmi"})
	for _, n := range ns {
		ts := t0.Add(time.Duration(n.sec) * time.Second).UnixNano()
		keys := schemas.LLDPNeighborKeys(n.port, "chassis-of-"+n.port) // one neighbour per port
		b.Append(&schemas.Sample{TS: ts, Device: n.device, Metric: schemas.MetricLLDPNeighborSystemName, Keys: keys,
			Kind: schemas.KindState, Str: n.system, Source: "gnmi"})
		b.Append(&schemas.Sample{TS: ts, Device: n.device, Metric: schemas.MetricLLDPNeighborPortID, Keys: keys,
			Kind: schemas.KindState, Str: n.peer, Source: "gnmi"})
	}
	rec := b.NewRecord()
	defer rec.Release()
	val, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: "samples", Value: val, Headers: kafka.RecordHeaders(schemas.SamplesHeaders())}
}

// fixture is a stage publishing to a kfake topic.
type fixture struct {
	t     *testing.T
	c     *kfake.Cluster
	ctx   context.Context
	kc    kafka.Config
	cl    *kgo.Client
	topic string
	st    *Stage
}

func newFixture(t *testing.T, base *View, log *slog.Logger) *fixture {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "tk.inventory"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	kc := kafka.Config{Brokers: c.ListenAddrs()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	f := &fixture{t: t, c: c, ctx: ctx, kc: kc, cl: cl, topic: "tk.inventory"}
	f.st = f.stage(base, log)
	return f
}

// stage returns a new stage on the fixture's topic, seeded from it as the
// app seeds a restarted one.
func (f *fixture) stage(base *View, log *slog.Logger) *Stage {
	f.t.Helper()
	st, err := New(Config{Topic: f.topic}, base, f.cl, nil, log)
	if err != nil {
		f.t.Fatal(err)
	}
	st.Seed(f.records())
	return st
}

// add feeds one samples message of ns to the stage and flushes; it
// returns the number of records published.
func (f *fixture) add(ns ...nb) int {
	f.t.Helper()
	if err := f.st.Add(f.ctx, lldpMessage(f.t, ns...)); err != nil {
		f.t.Fatal(err)
	}
	n, err := f.st.Flush(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

// records reads the topic: the latest value of each key.
func (f *fixture) records() map[string][]byte {
	f.t.Helper()
	out := map[string][]byte{}
	err := kafka.ReadAll(f.ctx, f.kc, f.topic, func(r *kgo.Record) {
		if r.Value == nil {
			delete(out, string(r.Key))
			return
		}
		out[string(r.Key)] = r.Value
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// read merges the topic as a reader does.
func (f *fixture) read() *schemas.Inventory {
	f.t.Helper()
	m := NewMerger()
	for k, v := range f.records() {
		if err := m.Apply([]byte(k), v); err != nil {
			f.t.Fatal(err)
		}
	}
	inv := m.Merged()
	if inv == nil {
		return &schemas.Inventory{}
	}
	return inv
}

func names(inv *schemas.Inventory) []string {
	var out []string
	for _, d := range inv.Devices {
		out = append(out, d.Name)
	}
	return out
}

func links(inv *schemas.Inventory) []string {
	var out []string
	for _, l := range inv.Links {
		out = append(out, l.A.String()+"-"+l.B.String())
	}
	return out
}

// TestLLDPBothEndsOneLink: the two ends of one cable reporting each other
// (one by a fully qualified system name) give one link; an unchanged
// neighbour publishes nothing; a restarted stage seeded from the topic
// publishes nothing either.
func TestLLDPBothEndsOneLink(t *testing.T) {
	f := newFixture(t, Fixed(nil), slog.New(slog.DiscardHandler))
	n := f.add(nb{0, "spine1", "e3", "leaf1", "e1"}, nb{0, "leaf1", "e1", "spine1.example.net", "e3"})
	inv := f.read()
	if n != 2 || !slices.Equal(names(inv), []string{"leaf1", "spine1"}) || !slices.Equal(links(inv), []string{"leaf1:e1-spine1:e3"}) {
		t.Fatalf("published %d records: devices %v, links %v", n, names(inv), links(inv))
	}
	recs := f.records()
	one, err := schemas.UnmarshalInventory(recs["leaf1"])
	if err != nil || len(one.Links) != 1 || len(one.Devices) != 2 || one.Devices[0].Name != "leaf1" {
		t.Fatalf("leaf1's record %s (%v): want leaf1, its link and spine1 name-only", recs["leaf1"], err)
	}
	if n := f.add(nb{30, "spine1", "e3", "leaf1", "e1"}, nb{30, "leaf1", "e1", "spine1.example.net", "e3"}); n != 0 {
		t.Errorf("unchanged neighbours published %d records, want 0", n)
	}
	f.st = f.stage(Fixed(nil), slog.New(slog.DiscardHandler))
	if n := f.add(nb{60, "leaf1", "e1", "spine1", "e3"}); n != 0 {
		t.Errorf("a restarted stage republished %d records, want 0", n)
	}
	if got := links(f.read()); !slices.Equal(got, []string{"leaf1:e1-spine1:e3"}) {
		t.Errorf("after the restart: links %v", got)
	}
	// Restarted again, the link read back is kept until LLDP samples that
	// do not confirm it have run lldp_expiry past the first one.
	f.st = f.stage(Fixed(nil), slog.New(slog.DiscardHandler))
	f.add(nb{300, "spine1", "e9", "leaf1", "e9"})
	if got := links(f.read()); len(got) != 2 {
		t.Fatalf("right after the second restart: links %v, want the one read back and the new one", got)
	}
	f.add(nb{300 + 181, "spine1", "e9", "leaf1", "e9"})
	if got := links(f.read()); !slices.Equal(got, []string{"leaf1:e9-spine1:e9"}) {
		t.Errorf("3m later with no sample for the old link: links %v", got)
	}
}

// TestConfig checks the defaults and that Validate names the field.
func TestConfig(t *testing.T) {
	c := Config{}.WithDefaults()
	if err := c.Validate(); err != nil || c.Topic != kafka.DefaultInventoryTopic || c.LLDPExpiry != DefaultLLDPExpiry || !c.On() {
		t.Fatalf("defaults %+v: %v", c, err)
	}
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Topic = "a b" }, "topic: "},
		{func(c *Config) { c.Partitions = -1 }, "partitions: "},
		{func(c *Config) { c.LLDPExpiry = -time.Second }, "lldp_expiry: "},
	} {
		c := Config{}.WithDefaults()
		tc.mod(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("got %v, want prefix %q", err, tc.want)
		}
	}
}

const fileYAML = `devices:
  - {name: spine1, site: fra1, role: spine}
  - {name: leaf1, site: fra1, role: leaf}
  - {name: leaf2, site: fra1, role: leaf, rack: r7}
links:
  - {a: {device: spine1, interface: e3}, b: {device: leaf1, interface: e1}}
`

// TestFileAndLLDPMerge: the file's devices keep their attributes, its link
// wins over an LLDP neighbour on the same port, LLDP adds the links the
// file does not name and a neighbour the file does not list as a device
// without attributes; a bad line of the file is one FILE:LINE log line and
// the rest loads.
func TestFileAndLLDPMerge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, []byte(fileYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	base, err := NewFile(path, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(logs.String(), path+":"); got != 1 || !strings.Contains(logs.String(), path+":4: ") ||
		!strings.Contains(logs.String(), `unknown field \"rack\"`) {
		t.Errorf("want one line naming %s:4 and the field; got:\n%s", path, logs.String())
	}
	f := newFixture(t, base, log)
	f.add(nb{0, "spine1", "e3", "leaf9", "e7"}, nb{0, "spine1", "e4", "leaf2", "e1"}, nb{0, "leaf2", "e2", "server7", "eth0"})
	inv := f.read()
	wantLinks := []string{"leaf2:e1-spine1:e4", "leaf2:e2-server7:eth0", "spine1:e3-leaf1:e1"}
	if !slices.Equal(names(inv), []string{"leaf1", "leaf2", "server7", "spine1"}) || !slices.Equal(links(inv), wantLinks) {
		t.Fatalf("devices %v, links %v; want links %v", names(inv), links(inv), wantLinks)
	}
	x := inv.Index()
	if d, _ := x.Device("leaf2"); d.Site != "fra1" || d.Role != "leaf" {
		t.Errorf("leaf2 lost its file attributes: %+v", d)
	}
	if p, ok := x.Peer(schemas.Port{Device: "spine1", Interface: "e3"}); !ok || p.String() != "leaf1:e1" {
		t.Errorf("spine1:e3's peer is %v, want the file's leaf1:e1", p)
	}
}

// TestNeighbourExpiry: a neighbour no sample named for lldp_expiry (event
// time) loses its link, and one whose system name turns empty loses it at
// once; devices nothing names any more are tombstoned.
func TestNeighbourExpiry(t *testing.T) {
	f := newFixture(t, Fixed(nil), slog.New(slog.DiscardHandler))
	f.add(nb{0, "spine1", "e3", "leaf1", "e1"}, nb{0, "spine1", "e4", "leaf2", "e1"})
	f.add(nb{120, "spine1", "e3", "leaf1", "e1"})
	if got := links(f.read()); len(got) != 2 {
		t.Fatalf("after 2m: links %v, want both", got)
	}
	f.add(nb{240, "spine1", "e3", "leaf1", "e1"})
	if got := links(f.read()); !slices.Equal(got, []string{"leaf1:e1-spine1:e3"}) {
		t.Fatalf("after 4m (e4 silent for 4m > 3m): links %v", got)
	}
	f.add(nb{250, "spine1", "e3", "", ""})
	inv := f.read()
	if len(inv.Links) != 0 || !slices.Equal(names(inv), []string{"spine1"}) {
		t.Fatalf("after e3's neighbour went: devices %v, links %v", names(inv), links(inv))
	}
}

// TestFollow: a view following the topic keeps its base while the topic
// is empty, switches to the topic's inventory when the stage publishes,
// with a new generation, and is not handed an equal inventory again.
func TestFollow(t *testing.T) {
	base := Fixed(&schemas.Inventory{Version: schemas.InventoryVersion, Devices: []schemas.Device{{Name: "leaf1", Site: "fra1"}}})
	f := newFixture(t, base, slog.New(slog.DiscardHandler))
	v := Fixed(base.Current(t0).Inv)
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	if err := Follow(ctx, f.kc, f.topic, v, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if s := v.Current(time.Now()); s.Gen != 1 || len(s.Inv.Devices) != 1 {
		t.Fatalf("empty topic: generation %d, %d devices; want the base", s.Gen, len(s.Inv.Devices))
	}
	f.add(nb{0, "leaf1", "e1", "spine1", "e3"})
	deadline := time.Now().Add(10 * time.Second)
	var s Snapshot
	for time.Now().Before(deadline) {
		if s = v.Current(time.Now()); s.Gen > 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	p, ok := s.Index.Peer(schemas.Port{Device: "leaf1", Interface: "e1"})
	if d, _ := s.Index.Device("leaf1"); s.Gen != 2 || !ok || p.String() != "spine1:e3" || d.Site != "fra1" {
		t.Fatalf("after the publish: generation %d, leaf1:e1's peer %v %v, leaf1 %+v", s.Gen, p, ok, d)
	}
	v.SetLive(f.read())
	if g := v.Current(time.Now()).Gen; g != 2 {
		t.Errorf("an equal inventory changed the generation to %d", g)
	}

	// A record that is no inventory is skipped with one log line naming
	// it; the inventory stays, and a follower started now reads the rest.
	bad := &kgo.Record{Topic: f.topic, Key: []byte("leaf1"), Value: []byte(`{"version": 2}`)}
	if err := f.cl.ProduceSync(f.ctx, bad).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	v2 := Fixed(nil)
	if err := Follow(ctx, f.kc, f.topic, v2, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if s := v2.Current(time.Now()); s.Inv == nil || len(s.Inv.Links) != 1 || strings.Count(logs.String(), "skipped an inventory record") != 1 ||
		!strings.Contains(logs.String(), "version 2 is not supported") {
		t.Errorf("after a bad record: %+v; log:\n%s", s.Inv, logs.String())
	}
}

// fleet is an inventory of n devices with ports links and ports BGP
// sessions each, named as fully qualified hosts.
func fleet(n, ports int) (*schemas.Inventory, func(int) string) {
	inv := &schemas.Inventory{Version: schemas.InventoryVersion}
	name := func(i int) string { return "device-" + strconv.Itoa(i%n) + ".pod-a.example.net" }
	for i := range n {
		inv.Devices = append(inv.Devices, schemas.Device{Name: name(i), Site: "site-" + strconv.Itoa(i/100), Role: "leaf",
			Vendor: "arista", Model: "7050X3", Tags: []string{"prod", "rack-" + strconv.Itoa(i/20)}})
		for j := range ports {
			port := "Ethernet" + strconv.Itoa(j+1)
			inv.Links = append(inv.Links, schemas.InvLink{A: schemas.Port{Device: name(i), Interface: port},
				B: schemas.Port{Device: name(i + j + 1), Interface: "Ethernet" + strconv.Itoa(ports+j+1)}})
			inv.Sessions = append(inv.Sessions, schemas.Session{Device: name(i), Protocol: schemas.ProtocolBGP,
				Neighbor: "10." + strconv.Itoa(i/256%256) + "." + strconv.Itoa(i%256) + "." + strconv.Itoa(j), Interface: port, PeerDevice: name(i + j + 1)})
		}
	}
	return inv, name
}

// TestRecordSize: at 10 000 devices with 32 links and 32 BGP sessions
// each, every record of the topic stays far under the broker's 1 MB
// message limit (the README's figure), and one new link re-encodes one
// record.
func TestRecordSize(t *testing.T) {
	const devices = 10_000
	inv, name := fleet(devices, 32)
	var sp splitter
	recs, err := sp.split(inv)
	if err != nil {
		t.Fatal(err)
	}
	largest, total := 0, 0
	for _, v := range recs {
		largest = max(largest, len(v))
		total += len(v)
	}
	if len(recs) != devices || largest > 64<<10 {
		t.Fatalf("%d records, the largest %d bytes; want %d records under 64 KiB", len(recs), largest, devices)
	}
	inv.Links = append(inv.Links, schemas.InvLink{A: schemas.Port{Device: name(7), Interface: "Ethernet99"}, B: schemas.Port{Device: name(8), Interface: "Ethernet99"}})
	again, err := sp.split(inv)
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for k, v := range again {
		if string(v) != string(recs[k]) {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("one new link changed %d records, want 1", changed)
	}
	t.Logf("%d records, largest %d bytes, %d MB in all", len(recs), largest, total>>20)
}

// BenchmarkSplit: encoding every record of a 10 000-device inventory
// (first), and again after one link changed (again: only that device's
// record is encoded).
func BenchmarkSplit(b *testing.B) {
	inv, name := fleet(10_000, 32)
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var sp splitter
			if _, err := sp.split(inv); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("again", func(b *testing.B) {
		b.ReportAllocs()
		var sp splitter
		if _, err := sp.split(inv); err != nil {
			b.Fatal(err)
		}
		extra := schemas.InvLink{A: schemas.Port{Device: name(7), Interface: "Ethernet99"}, B: schemas.Port{Device: name(8), Interface: "Ethernet99"}}
		with := &schemas.Inventory{Version: inv.Version, Devices: inv.Devices, Links: append(slices.Clip(inv.Links), extra), Sessions: inv.Sessions}
		for i := 0; b.Loop(); i++ {
			cur := inv
			if i%2 == 0 {
				cur = with
			}
			if _, err := sp.split(cur); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestFlushStopsWithItsContext: a flush whose records Kafka holds returns
// when its context ends (a stop's final flush has 10 s), not after the
// client's request timeout; the next flush publishes them.
func TestFlushStopsWithItsContext(t *testing.T) {
	f := newFixture(t, Fixed(nil), slog.New(slog.DiscardHandler))
	gate := testenv.HoldProduce(f.c)
	t.Cleanup(gate.Release) // before the cluster closes
	gate.Hold()
	if err := f.st.Add(f.ctx, lldpMessage(t, nb{0, "spine1", "e3", "leaf1", "e1"})); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
	defer cancel()
	flushed := make(chan error, 1)
	go func() { _, err := f.st.Flush(ctx); flushed <- err }()
	select {
	case err := <-flushed:
		if err == nil {
			t.Fatal("flush with Kafka holding its records succeeded")
		}
	case <-time.After(3 * time.Second):
		gate.Release()
		t.Fatal("flush with Kafka holding its records did not return within 3s of its context's 300ms")
	}
	gate.Release()
	if n, err := f.st.Flush(f.ctx); err != nil || n != 2 {
		t.Errorf("next flush: %d records, %v; want 2 (both devices)", n, err)
	}
}
