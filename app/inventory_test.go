package app

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// oneDetection is a Processor that emits one link-down detection of
// spine1:e3 per input record, and a record to another topic.
type oneDetection struct{ pipeline.Processor }

func (oneDetection) Process(_ context.Context, _ *kgo.Record, emit func(*kgo.Record)) error {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	l := schemas.AlertLabels("spine1", "/interfaces/interface/state/oper-status", "name=e3")
	d := &schemas.Detection{Version: schemas.DetectionVersion, ID: "x", EventTime: at, DetectedAt: at, State: schemas.StateFiring,
		Device: "spine1", Metric: "/interfaces/interface/state/oper-status", Keys: "name=e3", Detector: "link_down",
		Severity: schemas.SeverityCritical, Labels: l, Fingerprint: schemas.Fingerprint(l), StartsAt: at}
	val, err := schemas.MarshalDetection(d)
	if err != nil {
		return err
	}
	emit(&kgo.Record{Topic: "dets", Key: []byte(d.Fingerprint), Value: val, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "t"))})
	emit(&kgo.Record{Topic: "power", Value: []byte("not a detection")})
	return nil
}

// TestAnnotator: without an inventory the detections pass byte for byte;
// with one they carry the site, role and peer, with the same fingerprint,
// and records to other topics pass untouched.
func TestAnnotator(t *testing.T) {
	run := func(inv *schemas.Inventory) []*kgo.Record {
		a := &annotator{Processor: oneDetection{}, topic: "dets", inv: inventory.Fixed(inv)}
		var out []*kgo.Record
		if err := a.Process(context.Background(), &kgo.Record{}, func(r *kgo.Record) { out = append(out, r) }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	var plain []*kgo.Record
	_ = oneDetection{}.Process(context.Background(), nil, func(r *kgo.Record) { plain = append(plain, r) })
	none := run(nil)
	if len(none) != 2 || !bytes.Equal(none[0].Value, plain[0].Value) || !bytes.Equal(none[1].Value, plain[1].Value) {
		t.Fatalf("without an inventory the records changed:\n%s\n%s", none[0].Value, plain[0].Value)
	}
	inv := &schemas.Inventory{Version: schemas.InventoryVersion,
		Devices: []schemas.Device{{Name: "spine1", Site: "fra1", Role: "spine"}, {Name: "leaf1"}},
		Links:   []schemas.InvLink{{A: schemas.Port{Device: "spine1", Interface: "e3"}, B: schemas.Port{Device: "leaf1", Interface: "e1"}}}}
	got := run(inv)
	d, err := schemas.DecodeDetection(kafka.Headers(got[0]), got[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	a := d.Annotations
	if a["site"] != "fra1" || a["role"] != "spine" || a["peer_device"] != "leaf1" || a["peer_interface"] != "e1" ||
		string(got[0].Key) != d.Fingerprint || !bytes.Equal(got[1].Value, plain[1].Value) {
		t.Fatalf("annotated detection %s (key %s); other record %q", got[0].Value, got[0].Key, got[1].Value)
	}
}

// holding is a pipeline.Holder that holds oneDetection's outputs until
// Flush once told to.
type holding struct {
	oneDetection
	hold bool
	held []*kgo.Record
}

func (h *holding) HoldOutputs() { h.hold = true }

func (h *holding) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	if !h.hold {
		return h.oneDetection.Process(ctx, r, emit)
	}
	return h.oneDetection.Process(ctx, r, func(out *kgo.Record) { h.held = append(h.held, out) })
}

func (h *holding) Flush(emit func(*kgo.Record)) error {
	for _, r := range h.held {
		emit(r)
	}
	h.held = nil
	return nil
}

// TestAnnotatorHolds: the annotator passes a stage's holding on (the
// detect stage's workers hold a record's detections past Process), and the
// outputs the stage flushes are annotated as those of Process are.
func TestAnnotatorHolds(t *testing.T) {
	inv := &schemas.Inventory{Version: schemas.InventoryVersion, Devices: []schemas.Device{{Name: "spine1", Site: "fra1", Role: "spine"}}}
	h := &holding{}
	a := &annotator{Processor: h, topic: "dets", inv: inventory.Fixed(inv)}
	var p pipeline.Processor = a
	holder, ok := p.(pipeline.Holder)
	if !ok {
		t.Fatal("the annotator is no pipeline.Holder")
	}
	holder.HoldOutputs()
	var out []*kgo.Record
	if err := a.Process(context.Background(), &kgo.Record{}, func(r *kgo.Record) { out = append(out, r) }); err != nil {
		t.Fatal(err)
	}
	if !h.hold || len(out) != 0 {
		t.Fatalf("held %v, %d outputs from Process, want held and none", h.hold, len(out))
	}
	if err := holder.Flush(func(r *kgo.Record) { out = append(out, r) }); err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("Flush emitted %d outputs, want 2", len(out))
	}
	d, err := schemas.DecodeDetection(kafka.Headers(out[0]), out[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if d.Annotations["site"] != "fra1" {
		t.Fatalf("the flushed detection is not annotated: %s", out[0].Value)
	}
	// A stage that cannot hold: nothing to flush.
	plain := &annotator{Processor: oneDetection{}, topic: "dets", inv: inventory.Fixed(inv)}
	plain.HoldOutputs()
	if err := plain.Flush(func(*kgo.Record) { t.Fatal("a stage that holds nothing flushed an output") }); err != nil {
		t.Fatal(err)
	}
}
