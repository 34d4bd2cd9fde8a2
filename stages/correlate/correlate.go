package correlate

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/internal/binenc"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/events"
	"github.com/telekernel/telekernel/stages/inventory"
)

// engineKey is the changelog key of a partition's whole engine state, as
// the stage wrote it before its state was one record per incident (keys
// incidents.IncidentKeyPrefix and a number, and incidents.MetaKey). It is
// still read, and replaced by those records at the next checkpoint.
const engineKey = "incident-engine"

// Stage is the second half of the correlate stage: it reads the
// correlate input topic (detections keyed by site), keeps one incident
// engine per input partition, and emits the whole incident to the
// incidents topic, keyed by its id, every time a detection opened or
// changed it. A partition's engine state is checkpointed to the changelog
// in the transaction that consumed its detections, so a new owner after a
// rebalance or a crash continues where the last commit left off. It
// implements pipeline.Processor; it is not safe for concurrent use except
// for Emitted and Open.
type Stage struct {
	cfg     Config
	inv     *inventory.View
	now     func() time.Time
	log     *slog.Logger
	updates *Metrics

	parts  map[int32]*part
	zip    zipper
	open   atomic.Int64 // incidents open over every partition
	sent   atomic.Int64
	opened atomic.Int64 // incidents opened, committed
}

// part is the engine of one input partition.
type part struct {
	e      *incidents.Engine
	gen    int  // inventory generation the engine has
	legacy bool // restored from an engineKey record, which the next checkpoint deletes
	open   int
	// opened counts the incidents opened in the open transaction: by
	// partition, since the runner drops one to restore it inside a
	// transaction that goes on for the others.
	opened int64
	// mine holds the incidents this process opened in the partition
	// since it was created or restored, while the engine holds them: id
	// to state record key (incidents.IncidentKeyPrefix and its Seq), and
	// back. Only their merges take from opened: a restored incident,
	// opened by another process (or before a restore), was never counted.
	// An incident leaves at its merge, or when the engine forgets it (its
	// tombstone in Checkpoint).
	mine, mineKeys map[string]string
	// split holds the keys whose state was last written in parts;
	// pending, the parts read on restore, until their head; incomplete,
	// the heads read without their parts, until a later record of their
	// key (split.go).
	split      map[string]split
	pending    map[string][]byte
	incomplete map[string]string
}

var _ pipeline.Processor = (*Stage)(nil)

// New returns the correlating half with cfg (defaults applied, then
// validated), looking devices up in inv.
func New(cfg Config, inv *inventory.View, m *Metrics, log *slog.Logger) (*Stage, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("correlate: %w", err)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Stage{cfg: cfg, inv: inv, now: time.Now, log: log.With("stage", "correlate"), updates: m, parts: map[int32]*part{}}, nil
}

// part returns partition n's engine, with the current inventory.
func (c *Stage) part(n int32) *part {
	inv := c.inv.Current(c.now())
	p := c.parts[n]
	if p == nil {
		e, _ := incidents.New(c.cfg.Engine, inv.Inv) // validated in New
		p = &part{e: e, gen: inv.Gen, split: map[string]split{}, mine: map[string]string{}, mineKeys: map[string]string{}}
		c.parts[n] = p
	}
	if p.gen != inv.Gen {
		p.e.SetInventory(inv.Inv)
		p.gen = inv.Gen
	}
	return p
}

// Process implements pipeline.Processor.
func (c *Stage) Process(_ context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value)
	if err != nil {
		return err // dead-lettered
	}
	p := c.part(r.Partition)
	if err := p.checkRestored(); err != nil {
		return err
	}
	id, created := incidents.ID(d), p.e.Created()
	dropped, droppedStale := p.e.Dropped, p.e.DroppedStale
	removed, stale := p.e.Closed[incidents.ClosedDeviceRemoved], p.e.Closed[incidents.ClosedStale]
	out := p.e.Add(d)
	isNew := p.e.Created() != created
	if n := p.e.Closed[incidents.ClosedDeviceRemoved] - removed; n > 0 {
		c.updates.closed.WithLabelValues(incidents.ClosedDeviceRemoved).Add(float64(n))
		c.log.Info("resolved incidents whose alerts fire on devices removed from the inventory", "partition", r.Partition, "incidents", n)
	}
	if n := p.e.Closed[incidents.ClosedStale] - stale; n > 0 {
		c.updates.closed.WithLabelValues(incidents.ClosedStale).Add(float64(n))
		c.log.Info("resolved incidents that took no evidence for engine.stale_after", "partition", r.Partition, "incidents", n, "stale_after", c.cfg.Engine.StaleAfter)
	}
	switch {
	case p.e.DroppedStale != droppedStale:
		c.updates.dropped.WithLabelValues(ReasonStaleAlert).Inc()
		c.log.Info("skipped the resolution of an alert that fired longer than engine.stale_after before: its incident was resolved as stale and forgotten (or its firing came before the partition's state began)",
			"partition", r.Partition, "offset", r.Offset, "device", d.Device, "metric", d.Metric, "keys", d.Keys, "fingerprint", d.Fingerprint,
			"fired_at", d.StartsAt, "stale_after", c.cfg.Engine.StaleAfter)
	case p.e.Dropped != dropped:
		c.updates.dropped.WithLabelValues(ReasonUnknownAlert).Inc()
		c.log.Info("skipped the resolution of an alert no incident holds: its firing came before the partition's state began, or went to another partition",
			"partition", r.Partition, "offset", r.Offset, "device", d.Device, "metric", d.Metric, "keys", d.Keys, "fingerprint", d.Fingerprint)
	}
	for _, in := range out { // incidents resolved without their alerts, merged into another, then the one d changed
		// opened counts incidents not merged into another: the one d
		// opened, when the engine opened one (d may join an incident that
		// has its would-be id: another alert of its series and time),
		// less those of mine merged since.
		switch opened := isNew && in.ID == id; {
		case in.MergedInto != "":
			if key, ok := p.mine[in.ID]; ok && !opened {
				p.opened--
				delete(p.mine, in.ID)
				delete(p.mineKeys, key)
			}
		case opened:
			p.opened++
			key := incidents.IncidentKeyPrefix + strconv.FormatUint(p.e.Created(), 10)
			p.mine[in.ID], p.mineKeys[key] = key, in.ID
		}
		val, err := schemas.MarshalIncident(in)
		if err != nil {
			return fmt.Errorf("%w: %v", pipeline.ErrStop, err)
		}
		emit(&kgo.Record{Topic: c.cfg.Topic, Key: []byte(in.ID), Value: val, Headers: IncidentHeaders(in, c.cfg.Source)})
		c.updates.add(in)
	}
	return nil
}

// count refreshes the open incidents of p and the total.
func (c *Stage) count(p *part) {
	n := p.e.OpenCount()
	c.open.Add(int64(n - p.open))
	p.open = n
	c.updates.open.Set(float64(c.open.Load()))
}

// IncidentHeaders returns the Kafka headers of an incident message: its
// content type and schema, and the CloudEvents binary binding (type
// io.telekernel.incident.v1, id the incident id, its update time, state
// and count of members and effects, and "-merged" on the update that
// merges it into another).
//
// Every update of an incident adds a member, so the count tells apart two
// updates of one time and state: late evidence of an earlier event time
// (from a partition behind the others) leaves UpdatedAt as it was.
func IncidentHeaders(in *schemas.Incident, source string) []kgo.RecordHeader {
	id := in.ID + "-" + strconv.FormatInt(in.UpdatedAt.UnixNano(), 10) + "-" + in.State + "-" + strconv.Itoa(len(in.Evidence)+in.EvidenceOmitted)
	if in.MergedInto != "" {
		id += "-merged"
	}
	return events.Headers(events.Meta{Schema: schemas.SchemaIncident, Version: schemas.IncidentVersion,
		Type: schemas.IncidentType, Source: source, ID: id, Time: in.UpdatedAt})
}

// Checkpoint implements pipeline.Processor: for every partition, a record
// per incident a detection opened, changed or let expire since the last
// call (its state gzipped, the JSON of the incident with its evidence, or
// a tombstone), then the engine's counters when they changed. A record
// holds one incident, or a part of one larger than partMax (split.go),
// so a partition's state is not bounded by the broker's message size,
// and a checkpoint writes only what changed.
func (c *Stage) Checkpoint(emit func(partition int32, key, value []byte)) {
	for n, p := range c.parts {
		if len(p.incomplete) > 0 {
			continue // its state is not all here; its first record stops the stage (checkRestored)
		}
		recs, err := p.e.Changes()
		if err != nil {
			c.log.Error("cannot checkpoint incident state", "partition", n, "err", err)
			continue
		}
		for _, r := range recs {
			var v []byte
			if r.Value != nil {
				v = c.zip.compress(r.Value)
			} else if id, ok := p.mineKeys[r.Key]; ok {
				delete(p.mine, id) // forgotten
				delete(p.mineKeys, r.Key)
			}
			p.emitState(n, r.Key, v, emit)
		}
		if p.legacy {
			emit(n, []byte(engineKey), nil)
			p.legacy = false
		}
		if len(recs) > 0 {
			c.count(p)
		}
	}
}

// Restore implements pipeline.Processor. A record of a state version this
// build does not read is skipped with a warning: its incident (or the
// partition's, for a whole-engine record) starts cold.
func (c *Stage) Restore(partition int32, key, value []byte) error {
	p := c.part(partition)
	if p.restorePart(string(key), value) {
		return nil
	}
	whole, err := p.join(string(key), value)
	if err != nil {
		return fmt.Errorf("correlate: cannot restore incident state: %w", err)
	}
	if value != nil && whole == nil {
		return nil // a head whose parts a later record replaced, or the stage stops (checkRestored)
	}
	var raw []byte
	if whole != nil {
		if raw, err = decompress(whole); err != nil {
			return fmt.Errorf("correlate: cannot restore incident state: %s: %w", key, err)
		}
	}
	switch {
	case string(key) == engineKey && raw == nil:
		// The checkpoint that deleted the whole-engine record wrote every
		// incident it held, in the records before this one.
		p.legacy = false
		p.e.MarkWritten()
	case string(key) == engineKey:
		if err := p.e.UnmarshalBinary(raw); errors.Is(err, binenc.ErrVersion) {
			c.log.Warn("cannot restore incident state; the partition's incidents start cold", "partition", partition, "err", err)
		} else if err != nil {
			return fmt.Errorf("correlate: %w", err)
		} else {
			p.legacy = true
		}
	default:
		if err := p.e.RestoreRecord(string(key), raw); errors.Is(err, binenc.ErrVersion) {
			// Written by another build (a newer one, before a rollback):
			// that incident, or the counters, start cold, as the detect
			// stage's series do, rather than the stage stopping at every
			// restore. An older state of the incident is forgotten too.
			c.log.Warn("cannot restore incident state; it starts cold", "partition", partition, "key", string(key), "err", err)
			if string(key) != incidents.MetaKey {
				_ = p.e.RestoreRecord(string(key), nil) // the key parsed, or the version would not have been read
			}
		} else if err != nil {
			return fmt.Errorf("correlate: %w", err)
		}
	}
	c.count(p)
	return nil
}

// Drop implements pipeline.Processor.
func (c *Stage) Drop(partition int32) {
	if p, ok := c.parts[partition]; ok {
		c.open.Add(-int64(p.open))
		c.updates.open.Set(float64(c.open.Load()))
		delete(c.parts, partition)
	}
}

// Committed implements pipeline.Processor.
func (c *Stage) Committed(n int) {
	c.sent.Add(int64(n))
	for _, p := range c.parts {
		c.opened.Add(p.opened)
		p.opened = 0
	}
}

// Emitted returns the incident updates committed. Safe for concurrent use.
func (c *Stage) Emitted() int64 { return c.sent.Load() }

// Opened returns the incidents opened and not merged into another since,
// committed. Safe for concurrent use.
func (c *Stage) Opened() int64 { return c.opened.Load() }

// Open returns the incidents open now over every partition this instance
// owns. Safe for concurrent use.
func (c *Stage) Open() int64 { return c.open.Load() }

// zipper gzips state records for the changelog with one writer, reset
// for each (a gzip writer is about 800 KB to allocate).
type zipper struct {
	buf bytes.Buffer
	w   *gzip.Writer
}

// compress returns b gzipped, in a new slice.
func (z *zipper) compress(b []byte) []byte {
	z.buf.Reset()
	if z.w == nil {
		z.w = gzip.NewWriter(&z.buf)
	} else {
		z.w.Reset(&z.buf)
	}
	_, _ = z.w.Write(b) // a bytes.Buffer does not fail
	_ = z.w.Close()
	return bytes.Clone(z.buf.Bytes())
}

// decompress undoes compress.
func decompress(b []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}
