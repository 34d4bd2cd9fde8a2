package inventory_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/correlate"
	"github.com/telekernel/telekernel/stages/inventory"
)

// TestInventoryTopicIntegration runs on the real Kafka: LLDP samples of
// both ends of one cable are produced to a samples topic of its own, the
// inventory stage runs on them through the runtime (pipeline.Runner) and
// publishes to its own inventory topic; a correlate engine whose base
// inventory lists the devices but no link follows that topic, and the two
// ends' link-down detections then give one link incident naming both ends,
// with the site from the base and each end's peer, where the base alone
// gives one incident per end.
func TestInventoryTopicIntegration(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := "it-inventory-" + hex.EncodeToString(b)
	samples, topic := prefix+".samples", prefix+".inventory"
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: samples, Partitions: 3},
		kafka.TopicSpec{Name: topic, Partitions: 1, Compacted: true}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ device, port, system, peer string }{{"spine1", "e3", "leaf1", "e1"}, {"leaf1", "e1", "spine1", "e3"}} {
		if err := cl.ProduceSync(ctx, lldpSamples(t, samples, s.device, s.port, s.system, s.peer)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	base := &schemas.Inventory{Version: schemas.InventoryVersion,
		Devices: []schemas.Device{{Name: "spine1", Site: "fra1", Role: "spine"}, {Name: "leaf1", Site: "fra1", Role: "leaf"}}}
	log := slog.New(slog.DiscardHandler)
	st, err := inventory.New(inventory.Config{Topic: topic}, inventory.Fixed(base), cl, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipeline.NewRunner(ctx, kc, pipeline.RunnerConfig{Name: "inventory", Group: prefix + "-inventory", Topics: []string{samples},
		DeadLetterTopic: prefix + ".dlq", FlushInterval: 100 * time.Millisecond}, st, pipeline.NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	end, err := r.EndOffsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.DrainTo(end)
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}

	view := inventory.Fixed(base)
	if err := inventory.Follow(ctx, kc, topic, view, log); err != nil {
		t.Fatal(err)
	}
	snap := view.Current(time.Now())
	if l, ok := snap.Index.Link(schemas.Port{Device: "spine1", Interface: "e3"}); !ok || l.A.String() != "leaf1:e1" || len(snap.Inv.Links) != 1 {
		t.Fatalf("the topic read back: links %v, want the one LLDP cable leaf1:e1 — spine1:e3", snap.Inv.Links)
	}

	withTopic := correlateLinkDown(t, view)
	if len(withTopic) != 1 || withTopic[0].Rule != schemas.RuleLink || !strings.Contains(withTopic[0].Cause, "leaf1:e1 — spine1:e3") {
		t.Fatalf("with the topic's link: %s", describe(withTopic))
	}
	for _, en := range withTopic[0].Entities {
		if en.Kind == schemas.EntityInterface && (en.Site != "fra1" || en.PeerDevice == "" || en.PeerInterface == "") {
			t.Errorf("entity %+v lacks its site or peer", en)
		}
	}
	// Without the link, each end is an incident of its own.
	if alone := correlateLinkDown(t, inventory.Fixed(base)); len(alone) != 2 {
		t.Errorf("the base alone, without the link, gave %s; want one incident per end", describe(alone))
	}
	t.Logf("from the topic: %s", describe(withTopic))
}

// lldpSamples is one samples message of device's neighbour on port.
func lldpSamples(t *testing.T, topic, device, port, system, peer string) *kgo.Record {
	t.Helper()
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	keys := schemas.LLDPNeighborKeys(port, "chassis-"+system)
	ts := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC).UnixNano()
	sb.Append(&schemas.Sample{TS: ts, Device: device, Metric: schemas.MetricLLDPNeighborSystemName, Keys: keys, Kind: schemas.KindState, Str: system, Source: "gnmi"})
	sb.Append(&schemas.Sample{TS: ts, Device: device, Metric: schemas.MetricLLDPNeighborPortID, Keys: keys, Kind: schemas.KindState, Str: peer, Source: "gnmi"})
	rec := sb.NewRecord()
	defer rec.Release()
	val, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: topic, Key: []byte(device), Value: val, Headers: kafka.RecordHeaders(schemas.SamplesHeaders())}
}

// correlateLinkDown feeds the correlate engine, looking devices up in v,
// both ends of spine1:e3 — leaf1:e1 going down, and returns the latest
// update of each incident not merged into another.
func correlateLinkDown(t *testing.T, v *inventory.View) []*schemas.Incident {
	t.Helper()
	c, err := correlate.New(correlate.Config{Topic: "incidents", Input: "input"}, v, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 10, 5, 0, 0, time.UTC)
	latest := map[string]*schemas.Incident{}
	var order []string
	for i, end := range [][2]string{{"spine1", "e3"}, {"leaf1", "e1"}} {
		l := schemas.AlertLabels(end[0], "/interfaces/interface/state/oper-status", "name="+end[1])
		when := at.Add(time.Duration(i) * time.Second)
		d := &schemas.Detection{Version: schemas.DetectionVersion, ID: end[0] + "-down", EventTime: when, DetectedAt: when,
			State: schemas.StateFiring, Device: end[0], Metric: "/interfaces/interface/state/oper-status", Keys: "name=" + end[1],
			Detector: "link_down", Severity: schemas.SeverityCritical, Labels: l, Fingerprint: schemas.Fingerprint(l), StartsAt: when}
		val, err := schemas.MarshalDetection(d)
		if err != nil {
			t.Fatal(err)
		}
		rec := &kgo.Record{Value: val, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "test"))}
		err = c.Process(context.Background(), rec, func(out *kgo.Record) {
			in, err := schemas.UnmarshalIncident(out.Value)
			if err != nil {
				t.Fatal(err)
			}
			if latest[in.ID] == nil {
				order = append(order, in.ID)
			}
			latest[in.ID] = in
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var out []*schemas.Incident
	for _, id := range order {
		if latest[id].MergedInto == "" {
			out = append(out, latest[id])
		}
	}
	return out
}

func describe(ins []*schemas.Incident) string {
	var s []string
	for _, in := range ins {
		s = append(s, in.Rule+": "+in.Cause)
	}
	return strings.Join(s, "; ")
}
