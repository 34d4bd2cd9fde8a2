package correlate

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
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
// decode is dead-lettered here. An alert's detections keep the key its
// firing went under until it resolves, though the inventory changed in
// between (a device learned, or moved to another site): its resolution
// then reaches the engine that holds its incident, on whichever input
// partition. Those keys are Route's state, one changelog record per
// firing alert (key alertKeyPrefix and its fingerprint), per detections
// partition. It implements pipeline.Processor; it is not safe for
// concurrent use except for Routed.
type Route struct {
	topic  string
	inv    *inventory.View
	now    func() time.Time
	routed atomic.Int64
	parts  map[int32]*routePart
}

// routePart is the state of one detections partition: the key each alert
// that fires went under, and the alerts whose key changed since the last
// checkpoint.
type routePart struct {
	keys  map[string]string // fingerprint → key
	dirty map[string]bool
}

// alertKeyPrefix starts the changelog key of an alert's routing key.
const alertKeyPrefix = "alert/"

var _ pipeline.Processor = (*Route)(nil)

// NewRoute returns the routing half, writing to topic, looking sites up
// in inv.
func NewRoute(topic string, inv *inventory.View) *Route {
	return &Route{topic: topic, inv: inv, now: time.Now, parts: map[int32]*routePart{}}
}

// part returns detections partition n's state.
func (r *Route) part(n int32) *routePart {
	p := r.parts[n]
	if p == nil {
		p = &routePart{keys: map[string]string{}, dirty: map[string]bool{}}
		r.parts[n] = p
	}
	return p
}

// Process implements pipeline.Processor.
func (r *Route) Process(_ context.Context, rec *kgo.Record, emit func(*kgo.Record)) error {
	d, err := schemas.DecodeDetection(kafka.Headers(rec), rec.Value)
	if err != nil {
		return err // malformed or of another version: dead-lettered
	}
	p := r.part(rec.Partition)
	key, held := p.keys[d.Fingerprint]
	if !held {
		key = d.Device
		if dev, ok := r.inv.Current(r.now()).Index.Device(d.Device); ok && dev.Site != "" {
			key = "site\x00" + dev.Site
		}
	}
	switch {
	case d.State == schemas.StateFiring && !held:
		p.keys[d.Fingerprint], p.dirty[d.Fingerprint] = key, true
	case d.State == schemas.StateResolved && held:
		delete(p.keys, d.Fingerprint)
		p.dirty[d.Fingerprint] = true
	}
	emit(&kgo.Record{Topic: r.topic, Key: []byte(key), Value: rec.Value, Headers: rec.Headers, Timestamp: rec.Timestamp})
	return nil
}

// Checkpoint implements pipeline.Processor: for every partition, a record
// per alert whose key changed since the last call, by fingerprint: the
// key it fires under, or a tombstone once it resolved.
func (r *Route) Checkpoint(emit func(int32, []byte, []byte)) {
	for n, p := range r.parts {
		for _, fp := range slices.Sorted(maps.Keys(p.dirty)) {
			var v []byte
			if key, ok := p.keys[fp]; ok {
				v = []byte(key)
			}
			emit(n, []byte(alertKeyPrefix+fp), v)
		}
		clear(p.dirty)
	}
}

// Restore implements pipeline.Processor.
func (r *Route) Restore(partition int32, key, value []byte) error {
	fp, ok := strings.CutPrefix(string(key), alertKeyPrefix)
	if !ok || fp == "" {
		return fmt.Errorf("correlate-route: cannot restore routing state: key %q is not %q and a fingerprint", key, alertKeyPrefix)
	}
	p := r.part(partition)
	if value == nil {
		delete(p.keys, fp)
	} else {
		p.keys[fp] = string(value)
	}
	return nil
}

// Drop implements pipeline.Processor.
func (r *Route) Drop(partition int32) { delete(r.parts, partition) }

// Committed implements pipeline.Processor.
func (r *Route) Committed(n int) { r.routed.Add(int64(n)) }

// Routed returns the detections routed and committed. Safe for concurrent
// use.
func (r *Route) Routed() int64 { return r.routed.Load() }
