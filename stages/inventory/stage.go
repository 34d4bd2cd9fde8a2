package inventory

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/promreg"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/events"
)

// DefaultSource is the CloudEvents source of inventory records.
const DefaultSource = "telekernel/inventory"

// Producer writes records synchronously; *kgo.Client is one.
type Producer interface {
	ProduceSync(ctx context.Context, rs ...*kgo.Record) kgo.ProduceResults
}

var _ Producer = (*kgo.Client)(nil)

// Stage is the inventory stage: it reads the samples topic, keeps only the
// LLDP neighbour samples (a samples message whose metric dictionary holds
// neither LLDP metric is skipped without reading a row), merges the
// neighbours with the base inventory (the operator's file, re-read when it
// changes, or the simulated fleet's) and, at each flush, publishes the
// devices whose record changed to the compacted inventory topic (layout:
// see Split) and a tombstone for each device that left. It implements
// pipeline.Sink and runs at least once: a re-delivered sample gives the
// same inventory, and a record published again is the same key with the
// same value, which compaction makes harmless. It must see every samples
// partition: run one instance (a second in its consumer group sees only
// some devices' neighbours). It is not safe for concurrent use.
type Stage struct {
	cfg  Config
	base *View
	out  Producer
	log  *slog.Logger
	mem  memory.Allocator
	m    *Metrics

	l         *lldp
	split     splitter
	published map[string][]byte // the topic's records as this stage last wrote or read them
	gen       int               // the base generation published; 0: nothing published yet
	dirty     bool              // the neighbours changed since the last publish
	pending   int               // LLDP samples since the last flush
	flushSeq  int64             // the sequence number of the last flush that wrote (see flushHeader)
}

var _ pipeline.Sink = (*Stage)(nil)

// New returns the stage with cfg (defaults applied, then validated),
// merging the neighbours with base and publishing through out.
func New(cfg Config, base *View, out Producer, m *Metrics, log *slog.Logger) (*Stage, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Stage{cfg: cfg, base: base, out: out, log: log.With("stage", "inventory"), mem: memory.DefaultAllocator, m: m,
		l: newLLDP(cfg.LLDPExpiry.Nanoseconds()), published: map[string][]byte{}}, nil
}

// SeedFlush numbers the stage's flushes above seq, the largest flush
// number of the records in its topic (FlushNumber), read before it
// starts: a stage restarted with the wall clock behind the one before
// (which numbers flushes by the clock) still numbers its flushes above
// that one's, so a follower takes them as later (Follow).
func (s *Stage) SeedFlush(seq int64) { s.flushSeq = max(s.flushSeq, seq) }

// FlushNumber returns the number of the flush that wrote r (its
// flushHeader), 0 when it carries none.
func FlushNumber(r *kgo.Record) int64 {
	for _, h := range r.Headers {
		if h.Key == flushHeader {
			n, _ := strconv.ParseInt(string(h.Value), 10, 64)
			return max(n, 0)
		}
	}
	return 0
}

// Seed takes the topic's current records (the latest value of each key,
// read before the stage starts), so a restarted stage publishes only what
// changed since, and keeps the links it published that its base does not
// hold as LLDP neighbours until they expire (lldp_expiry after the first
// LLDP sample, unless a sample confirms them). A record that does not
// decode is logged and left to be overwritten.
func (s *Stage) Seed(recs map[string][]byte) {
	m := NewMerger()
	for k, v := range recs {
		if err := m.Apply([]byte(k), v); err != nil {
			s.log.Warn("cannot seed from an inventory record; it will be republished", "err", err)
			continue
		}
		s.published[k] = v
	}
	inv := m.Merged()
	if inv == nil {
		return
	}
	base := s.base.Current(time.Now()).Inv.Index()
	for _, k := range inv.Links {
		if l, ok := base.Link(k.A); ok && l == k {
			continue
		}
		s.l.seed(k)
	}
}

// Add implements pipeline.Sink: it keeps the LLDP neighbour samples of a
// samples message. A message that does not decode is dead-lettered.
func (s *Stage) Add(_ context.Context, r *kgo.Record) error {
	rec, err := schemas.DecodeSamples(s.mem, kafka.Headers(r), r.Value)
	if err != nil {
		return err
	}
	defer rec.Release()
	metric := rec.Column(schemas.ColMetric).(*array.Dictionary)
	dict := metric.Dictionary().(*array.String)
	sys, port := -1, -1
	for i := range dict.Len() {
		switch dict.Value(i) {
		case schemas.MetricLLDPNeighborSystemName:
			sys = i
		case schemas.MetricLLDPNeighborPortID:
			port = i
		}
	}
	if sys < 0 && port < 0 {
		return nil // no LLDP sample: nothing built, nothing read
	}
	sr, err := schemas.NewSampleReader(rec)
	if err != nil {
		return fmt.Errorf("%w: %v", schemas.ErrMalformed, err)
	}
	for i := range sr.Len() {
		idx := metric.GetValueIndex(i)
		if idx != sys && idx != port {
			continue
		}
		v, ok := sr.Str(i)
		if ok && !utf8.ValidString(v) {
			s.m.samples.WithLabelValues("invalid_utf8").Inc()
			continue
		}
		changed, valid := s.l.observe(sr.TS(i), sr.Device(i), dict.Value(idx), sr.Keys(i), v, ok)
		if !valid {
			s.m.samples.WithLabelValues("bad_keys").Inc()
			continue
		}
		s.m.samples.WithLabelValues("used").Inc()
		s.dirty = s.dirty || changed
		s.pending++
	}
	return nil
}

// Pending implements pipeline.Sink: the LLDP samples kept since the last
// flush.
func (s *Stage) Pending() int { return s.pending }

// Flush implements pipeline.Sink: it expires stale neighbours, re-reads a
// changed base, and publishes the records that changed; it returns how
// many it wrote (0 when nothing changed). A failed publish keeps
// everything, so the retry writes it.
func (s *Stage) Flush(ctx context.Context) (int, error) {
	expired := s.l.expire()
	snap := s.base.Current(time.Now())
	if !s.dirty && !expired && snap.Gen == s.gen {
		s.pending = 0
		return 0, nil
	}
	inv := merge(snap.Inv, s.l)
	recs, err := s.split.split(inv)
	if err != nil {
		return 0, err
	}
	var out []*kgo.Record
	for k, v := range recs {
		if old, ok := s.published[k]; !ok || string(old) != string(v) {
			out = append(out, s.record(k, v))
		}
	}
	for k := range s.published {
		if _, ok := recs[k]; !ok {
			out = append(out, s.record(k, nil))
		}
	}
	if len(out) > 0 {
		s.flushSeq = max(time.Now().UnixNano(), s.flushSeq+1)
		seq, n := []byte(strconv.FormatInt(s.flushSeq, 10)), []byte(strconv.Itoa(len(out)))
		for _, r := range out {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: flushHeader, Value: seq}, kgo.RecordHeader{Key: flushRecordsHeader, Value: n})
		}
		if err := produceSync(ctx, s.out, out); err != nil {
			s.dirty = true // expired neighbours are gone from l: publish again on retry
			return 0, fmt.Errorf("inventory: cannot publish to %s: %w", s.cfg.Topic, err)
		}
		s.m.records.Add(float64(len(out)))
		s.log.Info("inventory published", "topic", s.cfg.Topic, "records", len(out), "devices", len(inv.Devices),
			"links", len(inv.Links), "sessions", len(inv.Sessions))
	}
	s.published, s.gen, s.dirty, s.pending = recs, snap.Gen, false, 0
	return len(out), nil
}

// The headers that tell a reader which flush a record belongs to, so a
// follower takes a flush whole (Follow): a flush's produce requests land
// one after another, and a reader cannot otherwise tell the end of what
// the brokers hold from the end of the flush. flushHeader is the flush's
// sequence number (decimal: the time it began in Unix nanoseconds, past
// the previous flush's; a stage whose clock stepped back across a restart
// numbers a later flush lower, which a follower allows for),
// flushRecordsHeader the number of records it wrote.
const (
	flushHeader        = "telekernel-flush"
	flushRecordsHeader = "telekernel-flush-records"
)

// record returns the topic record of device key (nil value: a tombstone).
func (s *Stage) record(key string, value []byte) *kgo.Record {
	h := fnv.New64a()
	h.Write(value)
	hs := events.Headers(events.Meta{Schema: schemas.SchemaInventory, Version: schemas.InventoryVersion,
		Type: schemas.InventoryType, Source: DefaultSource, ID: key + "-" + strconv.FormatUint(h.Sum64(), 16)})
	return &kgo.Record{Topic: s.cfg.Topic, Key: []byte(key), Value: value, Headers: hs}
}

// Metrics are the inventory stage's own metrics.
type Metrics struct {
	samples *prometheus.CounterVec // LLDP samples by result
	records prometheus.Counter
}

// NewMetrics registers the inventory stage's metrics with reg (nil: none):
// telekernel_inventory_lldp_samples_total{result} (used, bad_keys,
// invalid_utf8) and telekernel_inventory_records_total, the records
// (tombstones included) published. Registering twice with one registry
// reuses the first.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{
		samples: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telekernel_inventory_lldp_samples_total",
			Help: "LLDP neighbour samples the inventory stage read, by result (used, bad_keys, invalid_utf8)."}, []string{"result"})),
		records: promreg.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "telekernel_inventory_records_total",
			Help: "Inventory records (tombstones included) published to the inventory topic."})),
	}
}

// produceSync produces recs and waits for their acknowledgements, or for
// ctx to end: franz-go does not fail a record already sent when ctx ends,
// so ProduceSync alone would hold a stop's final flush for the client's
// request timeout while Kafka does not answer. Records acknowledged after
// ctx ended are published again by the next flush (the topic is
// compacted).
func produceSync(ctx context.Context, cl Producer, recs []*kgo.Record) error {
	done := make(chan error, 1)
	go func() { done <- cl.ProduceSync(ctx, recs...).FirstErr() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
