package correlate

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/incidents"
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
// partition. An alert that never resolves (a device decommissioned while
// its link was down) would hold its key for ever: with engine.stale_after
// set in the engine's config, Route forgets it once the engine no longer waits for
// its resolution (see routeHorizon). It implements pipeline.Processor; it
// is not safe for concurrent use except for Routed.
type Route struct {
	topic  string
	inv    *inventory.View
	now    func() time.Time
	routed atomic.Int64
	parts  map[int32]*routePart
	// horizon is how long after it fired, in event time, an alert's key
	// is kept (routeHorizon); 0: until the alert resolves.
	horizon int64
}

// routePart is the state of one detections partition: the key each alert
// that fires went under, and the alerts whose key changed since the last
// checkpoint.
type routePart struct {
	keys  map[string]routeKey // by fingerprint
	dirty map[string]bool
	// clock is the partition's event time: the latest of its detections'
	// (each's event time, or its DetectedAt when earlier, as the engine
	// reads it); expireAt is when the next key may expire (0: look).
	clock, expireAt int64
}

// routeKey is the key an alert fired under, and when.
type routeKey struct {
	key string
	// fired is the partition's clock when the alert fired; 0 for a key
	// restored from the changelog, which does not hold it: the key then
	// counts from the partition's next detection.
	fired int64
}

// routeHorizon is how long after an alert fired, in event time, the engine
// may still wait for its resolution when the alert never resolves: its
// incident goes stale StaleAfter after its latest evidence at the earliest
// and is held StaleAfter plus Lateness after that for the resolution
// (incidents.Config.StaleAfter), which it drops later (Engine.DroppedStale).
// An incident kept open by newer evidence holds the alert longer; if its
// resolution comes after the Route forgot the key, it goes under the key
// of the device's site then, the same unless the inventory moved the
// device. 0 when stale_after is not set: the engine waits for ever.
func routeHorizon(cfg incidents.Config) int64 {
	if cfg.StaleAfter <= 0 {
		return 0
	}
	return int64(2*cfg.StaleAfter + cfg.Lateness)
}

// alertKeyPrefix starts the changelog key of an alert's routing key.
const alertKeyPrefix = "alert/"

var _ pipeline.Processor = (*Route)(nil)

// NewRoute returns the routing half, writing to topic, looking sites up
// in inv, keeping an alert's key for as long as an engine of config
// engine may wait for its resolution (routeHorizon; with stale_after 0,
// until the alert resolves).
func NewRoute(topic string, inv *inventory.View, engine incidents.Config) *Route {
	return &Route{topic: topic, inv: inv, now: time.Now, parts: map[int32]*routePart{}, horizon: routeHorizon(engine.WithDefaults())}
}

// part returns detections partition n's state.
func (r *Route) part(n int32) *routePart {
	p := r.parts[n]
	if p == nil {
		p = &routePart{keys: map[string]routeKey{}, dirty: map[string]bool{}}
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
	p.clock = max(p.clock, eventClock(d))
	r.expire(p)
	rk, held := p.keys[d.Fingerprint]
	key := rk.key
	if !held {
		key = d.Device
		if dev, ok := r.inv.Current(r.now()).Index.Device(d.Device); ok && dev.Site != "" {
			key = "site\x00" + dev.Site
		}
	}
	switch {
	case d.State == schemas.StateFiring && !held:
		p.keys[d.Fingerprint], p.dirty[d.Fingerprint] = routeKey{key: key, fired: p.clock}, true
		if r.horizon > 0 && p.expireAt == 0 {
			p.expireAt = r.expiry(p.clock)
		}
	case d.State == schemas.StateResolved && held:
		delete(p.keys, d.Fingerprint)
		p.dirty[d.Fingerprint] = true
	}
	emit(&kgo.Record{Topic: r.topic, Key: []byte(key), Value: rec.Value, Headers: rec.Headers, Timestamp: rec.Timestamp})
	return nil
}

// eventClock is d's time as the engine reads it: its event time, or its
// DetectedAt when that is earlier (a device clock running ahead).
func eventClock(d *schemas.Detection) int64 {
	t := d.EventTime.UnixNano()
	if !d.DetectedAt.IsZero() {
		t = min(t, d.DetectedAt.UnixNano())
	}
	return t
}

// expiry returns when a key that fired at fired expires.
func (r *Route) expiry(fired int64) int64 {
	if fired > math.MaxInt64-r.horizon {
		return math.MaxInt64
	}
	return fired + r.horizon
}

// expire forgets the keys of p that fired longer than the horizon before
// p's clock (their tombstones go out at the next checkpoint), and starts
// the count of restored keys. It looks only when the clock passed
// p.expireAt.
func (r *Route) expire(p *routePart) {
	if r.horizon == 0 || (p.expireAt != 0 && p.clock <= p.expireAt) {
		return
	}
	next := int64(0)
	for fp, k := range p.keys {
		if k.fired == 0 {
			k.fired = p.clock
			p.keys[fp] = k
		}
		at := r.expiry(k.fired)
		if p.clock > at {
			delete(p.keys, fp)
			p.dirty[fp] = true
			continue
		}
		if next == 0 || at < next {
			next = at
		}
	}
	p.expireAt = next
}

// Checkpoint implements pipeline.Processor: for every partition, a record
// per alert whose key changed since the last call, by fingerprint: the
// key it fires under, or a tombstone once it resolved.
func (r *Route) Checkpoint(emit func(int32, []byte, []byte)) {
	for n, p := range r.parts {
		for _, fp := range slices.Sorted(maps.Keys(p.dirty)) {
			var v []byte
			if k, ok := p.keys[fp]; ok {
				v = []byte(k.key)
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
		p.keys[fp] = routeKey{key: string(value)}
		p.expireAt = 0 // counted from the next detection (expire)
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
