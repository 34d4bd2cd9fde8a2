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
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/arrowpool"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// DefaultMaxRows is the number of samples of one device after which its
// batch is produced without waiting for Flush.
const DefaultMaxRows = 4096

// DefaultMaxBatchBytes bounds the encoded size of one Kafka record when
// neither the topic's limit nor Config.MaxBatchBytes says better: below Kafka's
// default max.message.bytes (1,048,588) and franz-go's default
// ProducerBatchMaxBytes (1,000,012), with room for the record's key,
// headers and batch framing.
const DefaultMaxBatchBytes = 900 << 10

// MinMaxBatchBytes is the smallest accepted record size limit.
const MinMaxBatchBytes = 16 << 10

// Publisher batches and produces samples. Add and Flush must be called from
// one goroutine; Publish, Wait, Stats and LastSuccess are safe from any, so
// collectors with a goroutine per target share one Publisher.
type Publisher struct {
	client   *kgo.Client
	topic    string
	maxRows  int
	maxBytes int
	log      *slog.Logger
	mem      memory.Allocator

	builders map[string]*schemas.SampleBuilder
	order    []string // devices in first-seen order, for deterministic flushes
	headers  []kgo.RecordHeader

	samples, batches, bytes, errs atomic.Int64
	metrics                       *Metrics

	// vals holds the buffers records are encoded into, each sized by an
	// upper bound of the record's encoding (encodedBound, a few % above
	// for large records); a buffer goes back once Kafka acknowledged (or
	// failed) its record, so producing makes no garbage.
	vals   arrowpool.Pool
	budget *budget // the client's MaxBufferedBytes: buffers' capacity, taken before encoding

	mu     sync.Mutex
	lastOK map[string]int64 // device -> unix ns of its last acknowledged record
	logged map[string]bool  // produce error reasons already logged at ERROR
	lost   map[string]int64 // samples lost by reason
	// lostAll and lastErr are the samples lost since the start and the
	// latest error, which Wait compares before and after it waits.
	lostAll int64
	lastErr error
	// pending counts the records and samples handed to the client whose
	// promise has not run; drained is closed whenever pendingRecs is 0.
	pendingRecs, pendingSamples int64
	drained                     chan struct{}
	// forgot holds the devices forgotten and not published since: the
	// acknowledgements of their records still in flight are not noted.
	forgot map[string]bool
}

// Config configures a Publisher: what it produces where. The logger,
// metrics and allocator it works with are Options. It is no section of
// the config file: the commands fill it from topics.samples (and
// `telekernel collect` from collect.max_batch_bytes).
type Config struct {
	// Topic receives the records; required.
	Topic string
	// MaxRows is the batch size per device: a device's batch is produced
	// without waiting for Flush once it holds this many samples. Default
	// DefaultMaxRows.
	MaxRows int
	// MaxBatchBytes bounds the encoded size of one Kafka record; default
	// DefaultMaxBatchBytes, at least MinMaxBatchBytes. Set it below the
	// topic's max.message.bytes (see TopicMaxMessageBytes, BatchBytesFor)
	// and the client's ProducerBatchMaxBytes. A record that encodes larger
	// is split by rows until each part fits.
	MaxBatchBytes int
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxRows == 0 {
		c.MaxRows = DefaultMaxRows
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	return c
}

// Validate reports the first bad field as "field: problem".
func (c Config) Validate() error {
	switch {
	case c.Topic == "":
		return errors.New("topic: must be set")
	case c.MaxRows < 1:
		return fmt.Errorf("max_rows: %d must be positive", c.MaxRows)
	case c.MaxBatchBytes < MinMaxBatchBytes:
		return fmt.Errorf("max_batch_bytes: %d must be at least %d", c.MaxBatchBytes, MinMaxBatchBytes)
	}
	return nil
}

// Option gives a Publisher what it works with (logger, metrics,
// allocator); its settings are in Config.
type Option func(*Publisher)

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(p *Publisher) { p.log = l } }

// WithMetrics counts into m (see NewMetrics); default no metrics.
func WithMetrics(m *Metrics) Option { return func(p *Publisher) { p.metrics = m } }

// WithAllocator sets the Arrow allocator of Add's builders; default a
// arrowpool.Allocator of the publisher's own.
func WithAllocator(mem memory.Allocator) Option { return func(p *Publisher) { p.mem = mem } }

// New returns a publisher producing to cfg.Topic through client, or an
// error naming the first bad field of cfg (with its defaults applied). The
// client should be idempotent (franz-go's default) so retries do not
// duplicate.
func New(client *kgo.Client, cfg Config, opts ...Option) (*Publisher, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	p := &Publisher{client: client, topic: cfg.Topic, maxRows: cfg.MaxRows, maxBytes: cfg.MaxBatchBytes, log: slog.Default(),
		mem: arrowpool.New(), builders: map[string]*schemas.SampleBuilder{}, lastOK: map[string]int64{}, forgot: map[string]bool{},
		logged: map[string]bool{}, lost: map[string]int64{}, drained: make(chan struct{})}
	close(p.drained)
	for _, o := range opts {
		o(p)
	}
	p.headers = kafka.RecordHeaders(schemas.SamplesHeaders())
	p.budget = newBudget(client)
	p.log = p.log.With("component", "publish", "topic", cfg.Topic)
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
// records produced so far. Like Wait, it returns an error if samples it
// flushed or waited for were lost, naming the topic and how many.
func (p *Publisher) Flush(ctx context.Context) error {
	before := p.lostSoFar()
	for _, dev := range p.order {
		if b := p.builders[dev]; b.Len() > 0 {
			if err := p.produce(ctx, dev, b); err != nil {
				return err
			}
		}
	}
	return p.wait(ctx, before)
}

func (p *Publisher) produce(ctx context.Context, device string, b *schemas.SampleBuilder) error {
	rec := b.NewRecord()
	defer rec.Release()
	return p.Publish(ctx, device, rec)
}

// MaxBatchBytes returns the limit on the encoded size of one record, for
// collectors that size their batches while decoding.
func (p *Publisher) MaxBatchBytes() int { return p.maxBytes }

// Publish encodes rec, a samples record of one device, and produces it
// keyed by device. A record that encodes larger than MaxBatchBytes is split
// by rows into records that fit; a single row that cannot fit is lost,
// counted under reason "too_large" and logged. Publish is safe for
// concurrent use, does not take ownership of rec, and blocks while the
// client's buffer is full (bound it with kgo.MaxBufferedBytes, or
// kgo.MaxBufferedRecords), so a down broker stops collection instead of
// growing memory. With MaxBufferedBytes, Publish waits for room before it
// encodes rec, so the encoded records held (waiting for Kafka or for
// room) stay within that limit however many goroutines publish. A produce
// error is logged once per reason (later ones at debug level) and
// counted; a Flush or Wait that was waiting for the record returns it too.
func (p *Publisher) Publish(ctx context.Context, device string, rec arrow.RecordBatch) error {
	p.mu.Lock()
	delete(p.forgot, device)
	p.mu.Unlock()
	key := []byte(device)
	bound := encodedBound(rec)
	held, err := p.budget.acquire(ctx, int64(p.vals.CapFor(int(bound)))+recordSize(key, nil, p.headers))
	if err != nil {
		p.failed(device, rec.NumRows(), "canceled", err)
		return err
	}
	val, err := schemas.EncodeSamples(p.vals.Get(int(bound))[:0], rec)
	if err != nil {
		p.budget.release(held)
		p.failed(device, rec.NumRows(), "encode", err)
		return err
	}
	if len(val) <= p.maxBytes {
		// The budget counts the buffer's capacity, what it holds.
		if held, err = p.fit(ctx, held, recordSize(key, val[:cap(val)], p.headers)); err != nil {
			p.vals.Put(val)
			p.failed(device, rec.NumRows(), "canceled", err)
			return err
		}
		p.produceValue(ctx, device, rec.NumRows(), key, val, held)
		return ctx.Err()
	}
	p.vals.Put(val)
	p.budget.release(held)
	if rec.NumRows() < 2 {
		p.failed(device, 1, "too_large", fmt.Errorf("one row encodes to %d bytes, above the limit of %d", len(val), p.maxBytes))
		return nil
	}
	return p.split(ctx, device, rec)
}

// fit turns held bytes of the budget into size (at most the whole
// budget): it frees what the estimate took beyond it, or waits for the
// rest (an estimate below the encoded size; not expected). It returns the
// bytes now held; on error it holds none.
func (p *Publisher) fit(ctx context.Context, held, size int64) (int64, error) {
	if p.budget == nil {
		return 0, nil
	}
	size = min(size, p.budget.limit)
	if held >= size {
		p.budget.release(held - size)
		return size, nil
	}
	more, err := p.budget.acquire(ctx, size-held)
	if err != nil {
		p.budget.release(held)
		return 0, err
	}
	return held + more, nil
}

// split publishes the rows of rec in records that fit MaxBatchBytes. A
// slice of rec would carry rec's whole dictionaries, so the rows are copied
// into new batches sized by Batch.Size, an upper bound.
func (p *Publisher) split(ctx context.Context, device string, rec arrow.RecordBatch) error {
	rows, err := schemas.Samples(rec)
	if err != nil {
		p.failed(device, rec.NumRows(), "encode", err)
		return err
	}
	b := NewBatch(p.mem, device, rows[0].Source)
	defer b.Release()
	flush := func() error {
		part := b.NewRecord()
		defer part.Release()
		return p.Publish(ctx, device, part)
	}
	for i := range rows {
		s := &rows[i]
		grow := sizePerRow + len(s.Str) + len(s.Metric) + len(s.Keys) + 2*sizePerStr
		if b.Len() > 0 && b.Size()+grow > p.maxBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		b.Append(s)
	}
	return flush()
}

// produceValue produces one encoded record of n samples; once the record
// is done, val goes back to p.vals and the held bytes to the budget.
func (p *Publisher) produceValue(ctx context.Context, device string, n int64, key, val []byte, held int64) {
	r := &kgo.Record{Topic: p.topic, Key: key, Value: val, Headers: p.headers}
	p.mu.Lock()
	if p.pendingRecs == 0 {
		p.drained = make(chan struct{})
	}
	p.pendingRecs++
	p.pendingSamples += n
	p.mu.Unlock()
	p.client.Produce(ctx, r, func(r *kgo.Record, err error) {
		// The client holds no reference to the record after its promise.
		defer p.budget.release(held)
		defer p.vals.Put(r.Value)
		defer p.done(n) // after the body below has counted the outcome
		if err != nil {
			p.failed(device, n, errorReason(err), err)
			return
		}
		// Stats last: whoever sees the write there finds it in the
		// metrics and the device's last success too.
		now := time.Now()
		m := p.metrics
		if m != nil {
			m.samples.Add(float64(n))
			m.batches.Inc()
			m.bytes.Add(float64(len(r.Value)))
		}
		p.mu.Lock()
		if !p.forgot[device] { // a device forgotten meanwhile stays forgotten
			p.lastOK[device] = now.UnixNano()
			if m != nil {
				m.lastSuccess.WithLabelValues(device).Set(float64(now.UnixNano()) / 1e9)
			}
		}
		p.mu.Unlock()
		p.samples.Add(n)
		p.batches.Add(1)
		p.bytes.Add(int64(len(r.Value)))
	})
}

// done notes that the promise of a record of n samples ran.
func (p *Publisher) done(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pendingRecs--
	p.pendingSamples -= n
	if p.pendingRecs == 0 {
		close(p.drained)
	}
}

// failed counts a record of n samples that was not produced, keeps the
// error for a Wait in progress, and logs the reason once at ERROR (later
// at DEBUG). The first ERROR line and the metrics come before the loss
// shows in Stats, so whoever sees it there finds the line and the metrics
// that explain it.
func (p *Publisher) failed(device string, n int64, reason string, err error) {
	p.mu.Lock()
	first := !p.logged[reason]
	p.logged[reason] = true
	if first {
		p.log.Error("cannot produce samples; they are lost (this reason is logged once)", "device", device,
			"samples", n, "reason", reason, "err", err)
	} else {
		p.log.Debug("cannot produce samples", "device", device, "samples", n, "reason", reason, "err", err)
	}
	if p.metrics != nil {
		p.metrics.lost.WithLabelValues(reason).Add(float64(n))
	}
	p.countError()
	p.lostAll += n
	p.lastErr = err
	p.lost[reason] += n
	p.mu.Unlock()
}

// errorReason names a produce error for logs and metrics: Kafka's error
// code when there is one.
func errorReason(err error) string {
	var ke *kerr.Error
	switch {
	case errors.As(err, &ke):
		return ke.Message
	case errors.Is(err, kgo.ErrRecordTimeout):
		return "timeout"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "produce"
}

func (p *Publisher) countError() {
	if p.metrics != nil {
		p.metrics.errors.Inc()
	}
	p.errs.Add(1)
}

// Wait waits until Kafka acknowledged every record produced so far, or
// until ctx is done. It returns an error only if samples it waited for are
// lost: records that fail while it waits (those not yet acknowledged when
// it was called, or produced meanwhile), and those still unacknowledged
// when ctx ends it; the error names the topic and how many samples. A loss
// before the call was logged and counted (Stats, the lost metric) when it
// happened and is not returned again, so a collector's Wait at its stop
// says whether the stop delivered what it held, not whether an outage an
// hour ago lost samples. Unlike Flush it does not touch Add's batches, so
// it is safe from any goroutine.
func (p *Publisher) Wait(ctx context.Context) error {
	return p.wait(ctx, p.lostSoFar())
}

// Mark is a point in a Publisher's losses, for WaitSince.
type Mark struct{ lost int64 }

// Mark returns the losses so far. A collector takes it at its stop
// signal, before its final batches are produced, so WaitSince reports the
// samples the whole stop lost.
func (p *Publisher) Mark() Mark { return Mark{p.lostSoFar()} }

// WaitSince is Wait, returning an error for every sample lost since m
// (refused or canceled before the wait began too), not only since the
// call.
func (p *Publisher) WaitSince(ctx context.Context, m Mark) error {
	return p.wait(ctx, m.lost)
}

// lostSoFar returns the samples lost since the start, the mark a wait
// counts its own losses from.
func (p *Publisher) lostSoFar() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lostAll
}

// wait is Wait, counting the samples lost since lostSoFar was before.
func (p *Publisher) wait(ctx context.Context, before int64) error {
	// The client's Flush ends lingering and waits for the records it
	// buffered; drained also covers those it refused before buffering,
	// whose promises it calls on a goroutine of its own.
	ferr := p.client.Flush(ctx)
	if ferr == nil {
		p.mu.Lock()
		drained := p.drained
		p.mu.Unlock()
		select {
		case <-drained:
		case <-ctx.Done():
			ferr = ctx.Err()
		}
	}
	p.mu.Lock()
	lost, pending, lastErr := p.lostAll-before, p.pendingSamples, p.lastErr
	p.mu.Unlock()
	var err error
	if lost > 0 {
		err = fmt.Errorf("publish: %d samples lost producing to topic %s (see the lost metric; last error: %w)", lost, p.topic, lastErr)
	}
	if ferr != nil && pending > 0 {
		unacked := fmt.Errorf("%d samples for topic %s not acknowledged by Kafka when the wait ended; they are lost if the process stops now: %w",
			pending, p.topic, ferr)
		if err == nil {
			return fmt.Errorf("publish: %w", unacked)
		}
		// One line, not errors.Join's two: collectors.Run returns this
		// as the process's error, and log lines print it whole.
		return fmt.Errorf("%w; %w", err, unacked)
	}
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
// metric labels), for a target that was removed; the acknowledgements of
// its records still in flight do not bring them back, until device is
// published again.
func (p *Publisher) Forget(device string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.lastOK, device)
	p.forgot[device] = true
	if p.metrics != nil {
		p.metrics.lastSuccess.DeleteLabelValues(device)
	}
}

// Stats are the publisher's counters of acknowledged writes, and of
// samples lost by reason (a Kafka error code, "too_large", "encode",
// "timeout", "canceled" or "produce").
type Stats struct {
	Samples, Batches, Bytes, Errors int64
	Lost                            map[string]int64
}

// Stats returns the counters so far.
func (p *Publisher) Stats() Stats {
	st := Stats{Samples: p.samples.Load(), Batches: p.batches.Load(), Bytes: p.bytes.Load(), Errors: p.errs.Load(),
		Lost: map[string]int64{}}
	p.mu.Lock()
	for r, n := range p.lost {
		st.Lost[r] = n
	}
	p.mu.Unlock()
	return st
}

// Close releases the builders. It does not close the client.
func (p *Publisher) Close() {
	for _, b := range p.builders {
		b.Release()
	}
	p.builders = nil
}
