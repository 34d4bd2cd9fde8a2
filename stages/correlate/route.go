package correlate

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// Route is the first half of the correlate stage: it reads the detections
// topic (keyed by fingerprint) and writes each detection, value and
// headers unchanged, to the correlate input topic keyed by its device's
// site (by the device itself when the inventory does not know it), so the
// detections of one site meet in one engine. A detection that does not
// decode is dead-lettered here. Route has no state. It implements
// pipeline.Processor; it is not safe for concurrent use except for Routed.
type Route struct {
	topic  string
	inv    *inventory.View
	now    func() time.Time
	routed atomic.Int64
}

var _ pipeline.Processor = (*Route)(nil)

// NewRoute returns the routing half, writing to topic, looking sites up
// in inv.
func NewRoute(topic string, inv *inventory.View) *Route {
	return &Route{topic: topic, inv: inv, now: time.Now}
}

// Process implements pipeline.Processor.
func (r *Route) Process(_ context.Context, rec *kgo.Record, emit func(*kgo.Record)) error {
	d, err := schemas.DecodeDetection(kafka.Headers(rec), rec.Value)
	if err != nil {
		return err // malformed or of another version: dead-lettered
	}
	key := d.Device
	if dev, ok := r.inv.Current(r.now()).Index.Device(d.Device); ok && dev.Site != "" {
		key = "site\x00" + dev.Site
	}
	emit(&kgo.Record{Topic: r.topic, Key: []byte(key), Value: rec.Value, Headers: rec.Headers, Timestamp: rec.Timestamp})
	return nil
}

// Checkpoint implements pipeline.Processor: Route has no state.
func (r *Route) Checkpoint(func(int32, []byte, []byte)) {}

// Restore implements pipeline.Processor: Route has no state.
func (r *Route) Restore(int32, []byte, []byte) error { return nil }

// Drop implements pipeline.Processor: Route has no state.
func (r *Route) Drop(int32) {}

// Committed implements pipeline.Processor.
func (r *Route) Committed(n int) { r.routed.Add(int64(n)) }

// Routed returns the detections routed and committed. Safe for concurrent
// use.
func (r *Route) Routed() int64 { return r.routed.Load() }
