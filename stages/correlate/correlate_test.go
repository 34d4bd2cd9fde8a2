package correlate

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
	"github.com/telekernel/telekernel/stages/inventory"
)

const (
	mOper = "/interfaces/interface/state/oper-status"
	mIn   = "/interfaces/interface/state/counters/in-octets"
	mBGP  = "/network-instances/network-instance/protocols/protocol/bgp/neighbors/neighbor/state/session-state"
	mTemp = "/components/component/state/temperature/instant"
)

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// det builds a detection at t0+sec.
func det(sec int, state, device, metric, keys, detector string) *schemas.Detection {
	l := schemas.AlertLabels(device, metric, keys)
	at := t0.Add(time.Duration(sec) * time.Second)
	d := &schemas.Detection{Version: schemas.DetectionVersion, ID: fmt.Sprintf("%s/%s/%s/%d/%s", device, metric, keys, sec, state),
		EventTime: at, DetectedAt: at, State: state, Device: device, Metric: metric, Keys: keys, Detector: detector,
		Severity: schemas.SeverityCritical, Labels: l, Fingerprint: schemas.Fingerprint(l), StartsAt: at}
	if state == schemas.StateResolved {
		d.EndsAt = &at
	}
	return d
}

func testInventory() *schemas.Inventory {
	return &schemas.Inventory{Version: schemas.InventoryVersion,
		Devices: []schemas.Device{{Name: "spine1", Site: "fra1", Role: "spine"}, {Name: "leaf1", Site: "fra1", Role: "leaf"}},
		Links:   []schemas.InvLink{{A: schemas.Port{Device: "spine1", Interface: "e3"}, B: schemas.Port{Device: "leaf1", Interface: "e1"}}},
		Sessions: []schemas.Session{{Device: "leaf1", Protocol: schemas.ProtocolBGP, Neighbor: "10.0.0.0", Interface: "e1",
			PeerDevice: "spine1"}},
	}
}

// linkDown is a link spine1:e3 — leaf1:e1 going down and coming back,
// then an unrelated temperature alert on another device.
func linkDown() []*schemas.Detection {
	F, R := schemas.StateFiring, schemas.StateResolved
	return []*schemas.Detection{
		det(0, F, "spine1", mOper, "name=e3", "link_down"),
		det(0, F, "leaf1", mBGP, "name=default,neighbor-address=10.0.0.0", "session_down"),
		det(2, F, "leaf1", mOper, "name=e1", "link_down"),
		det(10, F, "leaf1", mIn, "name=e1", "ewma"),
		det(120, F, "leaf9", mTemp, "name=CPU0", "ewma"),
		det(300, R, "spine1", mOper, "name=e3", "link_down"),
		det(300, R, "leaf1", mBGP, "name=default,neighbor-address=10.0.0.0", "session_down"),
		det(302, R, "leaf1", mOper, "name=e1", "link_down"),
		det(310, R, "leaf1", mIn, "name=e1", "ewma"),
	}
}

// produceDetections writes dets to topic keyed by fingerprint, as the
// detect stage does, and returns the partitions they landed on.
func produceDetections(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, dets []*schemas.Detection) map[int32]bool {
	t.Helper()
	parts := map[int32]bool{}
	for _, d := range dets {
		b, err := schemas.MarshalDetection(d)
		if err != nil {
			t.Fatal(err)
		}
		r := &kgo.Record{Topic: topic, Key: []byte(d.Fingerprint), Value: b, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "test"))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
		parts[r.Partition] = true
	}
	return parts
}

// runToEnd runs proc on input in group until it consumed everything now
// there.
func runToEnd(t *testing.T, ctx context.Context, kc kafka.Config, cl *kgo.Client, group, input string, proc pipeline.Processor) pipeline.Stats {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	tr, err := pipeline.NewTransactRunner(ctx, kc, pipeline.TransactConfig{Name: group, Group: group, Input: input, DeadLetterTopic: "dlq"},
		proc, pipeline.NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	end, err := pipeline.EndOffsets(ctx, cl, input)
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return tr.Stats()
}

// latest reads the incidents topic and returns the latest incident of
// each id.
func latest(t *testing.T, recs []*kgo.Record) map[string]*schemas.Incident {
	t.Helper()
	out := map[string]*schemas.Incident{}
	for _, r := range recs {
		if v, _ := schemas.HeaderValue(kafka.Headers(r), "ce_type"); string(v) != schemas.IncidentType {
			t.Fatalf("ce_type %q", v)
		}
		in, err := schemas.UnmarshalIncident(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != in.ID {
			t.Fatalf("key %q, id %q", r.Key, in.ID)
		}
		out[in.ID] = in
	}
	return out
}

// TestCorrelateStage runs a link failure's detections, spread over the
// detections topic's partitions by fingerprint, through Route and
// Stage on a Kafka-protocol broker: they come out as one link incident
// (and the unrelated temperature alert as its own), a malformed detection
// is dead-lettered, and the engine state restores from the changelog.
func TestCorrelateStage(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(4, "detections"), kfake.SeedTopics(1, "input", "incidents", "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if parts := produceDetections(t, ctx, cl, "detections", linkDown()); len(parts) < 2 {
		t.Fatalf("the detections landed on %d partition(s); the test needs them spread", len(parts))
	}
	bad := &kgo.Record{Topic: "detections", Key: []byte("x"), Value: []byte("{not json")}
	if err := cl.ProduceSync(ctx, bad).FirstErr(); err != nil {
		t.Fatal(err)
	}

	inv := inventory.Fixed(testInventory())
	route := NewRoute("input", inv, incidents.Config{})
	if s := runToEnd(t, ctx, kc, cl, "route", "detections", route); s.Records != 10 || s.DeadLetters != 1 || route.Routed() != 9 {
		t.Fatalf("route: stats %+v, routed %d; want 10 records, 1 dead letter, 9 routed", s, route.Routed())
	}
	cfg := Config{Topic: "incidents", Input: "input"}
	c, err := New(cfg, inv, NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	runToEnd(t, ctx, kc, cl, "correlate", "input", c)
	recs := stagetest.ConsumeAll(t, ctx, kc.Brokers, "incidents", int(c.Emitted()))
	incs := latest(t, recs)
	if len(incs) != 2 || c.Opened() != 2 || int64(len(recs)) != c.Emitted() {
		t.Fatalf("%d incidents (%d opened) in %d updates (%d emitted), want 2", len(incs), c.Opened(), len(recs), c.Emitted())
	}
	var link *schemas.Incident
	for _, in := range incs {
		if in.Rule == schemas.RuleLink {
			link = in
		}
	}
	if link == nil || !strings.Contains(link.Cause, "spine1:e3 — leaf1:e1") || link.State != schemas.IncidentResolved || len(link.Evidence) != 8 {
		t.Fatalf("link incident %+v", link)
	}
	if c.Open() != 1 {
		t.Errorf("%d open, want 1 (the temperature)", c.Open())
	}

	// A new owner restores the same engine state from the changelog, one
	// record per incident and the counters.
	c2, _ := New(cfg, inv, nil, slog.New(slog.DiscardHandler))
	keys := map[string]bool{}
	err = kafka.ReadAll(ctx, kc, "correlate-changelog", func(r *kgo.Record) {
		keys[string(r.Key)] = true
		if err := c2.Restore(r.Partition, r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.parts[0].e.MarshalBinary()
	b, _ := c2.parts[0].e.MarshalBinary()
	if !bytes.Equal(a, b) || c2.Open() != 1 {
		t.Fatalf("restored state differs (open %d):\n%s\n%s", c2.Open(), a, b)
	}
	if !keys[incidents.MetaKey] || !keys[incidents.IncidentKeyPrefix+"1"] || !keys[incidents.IncidentKeyPrefix+"2"] || len(keys) != 3 {
		t.Errorf("changelog keys %v, want the counters and two incidents", keys)
	}
	if err := c2.Restore(0, []byte("other"), nil); err == nil {
		t.Error("a foreign changelog key should be an error")
	}

	// A changelog of the stage before (the whole engine in one record) is
	// read, and the next checkpoint writes its records and deletes it.
	c3, _ := New(cfg, inv, nil, slog.New(slog.DiscardHandler))
	if err := c3.Restore(0, []byte(engineKey), c3.zip.compress(a)); err != nil {
		t.Fatal(err)
	}
	type rec struct{ key, value []byte }
	var out []string
	log := []rec{{[]byte(engineKey), c3.zip.compress(a)}}
	c3.Checkpoint(func(p int32, key, value []byte) {
		out = append(out, fmt.Sprintf("%d %s %t", p, key, value != nil))
		log = append(log, rec{key, value})
	})
	want := []string{"0 incident/1 true", "0 incident/2 true", "0 meta true", "0 " + engineKey + " false"}
	if !slices.Equal(out, want) || c3.Open() != 1 {
		t.Errorf("the checkpoint after a whole-engine record wrote %q (open %d), want %q", out, c3.Open(), want)
	}
	// Restored from that changelog before compaction (the whole-engine
	// record, the records that replaced it, its deletion), the state is the
	// same and nothing is left to write again.
	c4, _ := New(cfg, inv, nil, slog.New(slog.DiscardHandler))
	for _, r := range log {
		if err := c4.Restore(0, r.key, r.value); err != nil {
			t.Fatal(err)
		}
	}
	var again []string
	c4.Checkpoint(func(_ int32, key, _ []byte) { again = append(again, string(key)) })
	if d, _ := c4.parts[0].e.MarshalBinary(); !bytes.Equal(a, d) || len(again) != 0 {
		t.Errorf("restored from the migrated changelog: state equal %t, then the checkpoint wrote %q, want nothing", bytes.Equal(a, d), again)
	}
}

// TestConfig checks defaults and that Validate names the field.
func TestConfig(t *testing.T) {
	c := Config{}.WithDefaults()
	if err := c.Validate(); err != nil || c.Topic != DefaultTopic || c.Partitions != 1 || !*c.Enabled {
		t.Fatalf("defaults %+v: %v", c, err)
	}
	f := func(mod func(*Config), want string) {
		t.Helper()
		c := Config{}.WithDefaults()
		mod(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want prefix %q", err, want)
		}
	}
	f(func(c *Config) { c.Topic = "a b" }, "topic: ")
	f(func(c *Config) { c.Input = c.Topic }, "input: ")
	f(func(c *Config) { c.Partitions = -1 }, "partitions: ")
	f(func(c *Config) { c.Engine.Window = -time.Second }, "engine.window: ")
	f(func(c *Config) { c.Inventory = "/nonexistent/inventory.yaml" }, "inventory: cannot read inventory: ")
}

// TestInventorySwapsLive: the engine takes a new inventory generation at
// the next detection, without a restart: the first end of a link going
// down before the link is known, the second after, give one link incident
// naming both ends.
func TestInventorySwapsLive(t *testing.T) {
	base := testInventory()
	noLink := *base
	noLink.Links = nil
	v := inventory.Fixed(&noLink)
	c, err := New(Config{Topic: "incidents", Input: "input"}, v, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	latest := map[string]*schemas.Incident{}
	process := func(d *schemas.Detection) {
		t.Helper()
		val, err := schemas.MarshalDetection(d)
		if err != nil {
			t.Fatal(err)
		}
		rec := &kgo.Record{Value: val, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "test"))}
		if err := c.Process(context.Background(), rec, func(out *kgo.Record) {
			in, err := schemas.UnmarshalIncident(out.Value)
			if err != nil {
				t.Fatal(err)
			}
			latest[in.ID] = in
		}); err != nil {
			t.Fatal(err)
		}
	}
	F := schemas.StateFiring
	process(det(0, F, "spine1", mOper, "name=e3", "link_down"))
	v.SetLive(base) // the inventory topic learned the link
	process(det(2, F, "leaf1", mOper, "name=e1", "link_down"))
	var live []*schemas.Incident
	for _, in := range latest {
		if in.MergedInto == "" {
			live = append(live, in)
		}
	}
	if len(live) != 1 || live[0].Rule != schemas.RuleLink || !strings.Contains(live[0].Cause, "spine1:e3 — leaf1:e1") {
		for _, in := range live {
			t.Logf("%s: %s", in.Rule, in.Cause)
		}
		t.Fatalf("%d incidents not merged away, want the one link incident naming both ends", len(live))
	}
}
