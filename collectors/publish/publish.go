// Package publish batches samples per device into Arrow records and produces
// them to Kafka, one Arrow IPC stream per message, keyed by device so all
// series of a device land on one partition.
//
// Memory is bounded: records wait in the Kafka client's buffer, and when it
// is full (a slow or down broker) Add blocks instead of growing memory, which
// slows collection down rather than losing samples.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// DefaultMaxRows is the number of samples of one device after which its
// batch is produced without waiting for Flush.
const DefaultMaxRows = 4096

// Publisher batches and produces samples. Add and Flush must be called from
// one goroutine; Publish, Wait, Stats and LastSuccess are safe from any, so
// collectors with a goroutine per target share one Publisher.
type Publisher struct {
	client  *kgo.Client
	topic   string
	maxRows int
	log     *slog.Logger
	mem     memory.Allocator

	builders map[string]*schemas.SampleBuilder
	order    []string // devices in first-seen order, for deterministic flushes
	headers  []kgo.RecordHeader

	samples, batches, bytes, errs atomic.Int64
	metrics                       *Metrics

	mu       sync.Mutex
	firstErr error
	lastOK   map[string]int64 // device -> unix ns of its last acknowledged record
}

// Option configures a Publisher.
type Option func(*Publisher)

// WithMaxRows sets the batch size per device; default DefaultMaxRows.
func WithMaxRows(n int) Option { return func(p *Publisher) { p.maxRows = n } }

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(p *Publisher) { p.log = l } }

// WithMetrics counts into m (see NewMetrics); default no metrics.
func WithMetrics(m *Metrics) Option { return func(p *Publisher) { p.metrics = m } }

// WithAllocator sets the Arrow allocator of Add's builders; default Go's.
func WithAllocator(mem memory.Allocator) Option { return func(p *Publisher) { p.mem = mem } }

// New returns a publisher producing to topic through client. The client
// should be idempotent (franz-go's default) so retries do not duplicate.
func New(client *kgo.Client, topic string, opts ...Option) (*Publisher, error) {
	if topic == "" {
		return nil, errors.New("publish: topic is empty")
	}
	p := &Publisher{client: client, topic: topic, maxRows: DefaultMaxRows, log: slog.Default(),
		mem: memory.NewGoAllocator(), builders: map[string]*schemas.SampleBuilder{}, lastOK: map[string]int64{}}
	for _, o := range opts {
		o(p)
	}
	if p.maxRows < 1 {
		return nil, fmt.Errorf("publish: max rows %d must be positive", p.maxRows)
	}
	for _, h := range schemas.SamplesHeaders() {
		p.headers = append(p.headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	p.log = p.log.With("component", "publish", "topic", topic)
	return p, nil
}

// Add appends a sample to its device's batch, producing the batch when it is
// full. It blocks while the client's buffer is full. s is not retained.
func (p *Publisher) Add(ctx context.Context, s *schemas.Sample) error {
	b, ok := p.builders[s.Device]
	if !ok {
		b = schemas.NewSampleBuilder(p.mem)
		p.builders[s.Device] = b
		p.order = append(p.order, s.Device)
	}
	b.Append(s)
	if b.Len() >= p.maxRows {
		return p.produce(ctx, s.Device, b)
	}
	return nil
}

// Flush produces every pending batch and waits until Kafka acknowledged all
// records produced so far. It returns the first produce error since the
// previous Flush.
func (p *Publisher) Flush(ctx context.Context) error {
	for _, dev := range p.order {
		if b := p.builders[dev]; b.Len() > 0 {
			if err := p.produce(ctx, dev, b); err != nil {
				return err
			}
		}
	}
	return p.Wait(ctx)
}

func (p *Publisher) produce(ctx context.Context, device string, b *schemas.SampleBuilder) error {
	rec := b.NewRecord()
	defer rec.Release()
	return p.Publish(ctx, device, rec)
}

// Publish encodes rec, a samples record of one device, and produces it
// keyed by device. It is safe for concurrent use, does not take ownership
// of rec, and blocks while the client's buffer is full (bound it with
// kgo.MaxBufferedRecords or kgo.MaxBufferedBytes), so a down broker stops
// collection instead of growing memory. An error acknowledged later is
// returned by the next Flush or Wait.
func (p *Publisher) Publish(ctx context.Context, device string, rec arrow.RecordBatch) error {
	n := rec.NumRows()
	val, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		p.countError()
		return err
	}
	r := &kgo.Record{Topic: p.topic, Key: []byte(device), Value: val, Headers: p.headers}
	p.client.Produce(ctx, r, func(r *kgo.Record, err error) {
		if err != nil {
			p.countError()
			p.mu.Lock()
			if p.firstErr == nil {
				p.firstErr = fmt.Errorf("publish: produce to %s: %w", p.topic, err)
			}
			p.mu.Unlock()
			return
		}
		p.samples.Add(n)
		p.batches.Add(1)
		p.bytes.Add(int64(len(r.Value)))
		now := time.Now()
		p.mu.Lock()
		p.lastOK[device] = now.UnixNano()
		p.mu.Unlock()
		if m := p.metrics; m != nil {
			m.samples.Add(float64(n))
			m.batches.Inc()
			m.bytes.Add(float64(len(r.Value)))
			m.lastSuccess.WithLabelValues(device).Set(float64(now.UnixNano()) / 1e9)
		}
	})
	return ctx.Err()
}

func (p *Publisher) countError() {
	p.errs.Add(1)
	if p.metrics != nil {
		p.metrics.errors.Inc()
	}
}

// Wait waits until Kafka acknowledged every record produced so far and
// returns the first produce error since the previous Wait or Flush. Unlike
// Flush it does not touch Add's batches, so it is safe from any goroutine.
func (p *Publisher) Wait(ctx context.Context) error {
	if err := p.client.Flush(ctx); err != nil {
		return fmt.Errorf("publish: flush: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.firstErr
	p.firstErr = nil
	return err
}

// LastSuccess returns when Kafka last acknowledged a record of device (zero
// if never).
func (p *Publisher) LastSuccess(device string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ns, ok := p.lastOK[device]; ok {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Forget drops what the publisher keeps about device (its last success and
// metric labels), for a target that was removed.
func (p *Publisher) Forget(device string) {
	p.mu.Lock()
	delete(p.lastOK, device)
	p.mu.Unlock()
	if p.metrics != nil {
		p.metrics.lastSuccess.DeleteLabelValues(device)
	}
}

// Stats are the publisher's counters of acknowledged writes.
type Stats struct {
	Samples, Batches, Bytes, Errors int64
}

// Stats returns the counters so far.
func (p *Publisher) Stats() Stats {
	return Stats{Samples: p.samples.Load(), Batches: p.batches.Load(), Bytes: p.bytes.Load(), Errors: p.errs.Load()}
}

// Close releases the builders. It does not close the client.
func (p *Publisher) Close() {
	for _, b := range p.builders {
		b.Release()
	}
	p.builders = nil
}
