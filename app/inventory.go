package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// The inventory stage's row (LLDP neighbours from the samples and the base
// inventory, published to the inventory topic) and the annotation of the
// detections the detect and power stages emit.

func inventoryEnabled(c *config.Config) error {
	if !c.Inventory.On() {
		return errors.New("inventory.enabled is false")
	}
	return nil
}

// inventoryTopicSpec is the inventory topic as the stages create it:
// compacted, keyed by device.
func inventoryTopicSpec(c *config.Config) kafka.TopicSpec {
	return kafka.TopicSpec{Name: c.Inventory.Topic, Partitions: c.Inventory.Partitions, Compacted: true}
}

func buildInventory(ctx context.Context, env *Env) (Built, error) {
	log := env.Log.With("stage", "inventory")
	base, err := baseInventory(env, log)
	if err != nil {
		return Built{}, err
	}
	c := env.Config.Inventory
	if err := kafka.EnsureTopics(ctx, env.Admin, inventoryTopicSpec(env.Config)); err != nil {
		return Built{}, err
	}
	st, err := inventory.New(c, base, env.Out, inventory.NewMetrics(env.Registry), env.Log)
	if err != nil {
		return Built{}, err
	}
	recs := map[string][]byte{}
	var flush int64 // the largest flush number read: the stage's flushes go on above it
	err = kafka.ReadAll(ctx, env.Kafka, c.Topic, func(r *kgo.Record) {
		flush = max(flush, inventory.FlushNumber(r))
		if r.Value == nil {
			delete(recs, string(r.Key))
			return
		}
		recs[string(r.Key)] = r.Value
	})
	if err != nil {
		return Built{}, fmt.Errorf("inventory: cannot read %s: %w", c.Topic, err)
	}
	st.Seed(recs)
	st.SeedFlush(flush)
	return Built{Sink: st, FlushInterval: time.Second}, nil
}

// annotated wraps the Build of a stage that emits detections: each
// detection it emits to topics.detections gets the site, role and peer
// annotations of the correlate stage's inventory (inventory.Annotate),
// looked up once per detection, not per sample. A detection the inventory
// knows nothing about is emitted as it was, byte for byte.
func annotated(build func(context.Context, *Env) (Built, error)) func(context.Context, *Env) (Built, error) {
	return func(ctx context.Context, env *Env) (Built, error) {
		b, err := build(ctx, env)
		if err != nil || b.Proc == nil {
			return b, err
		}
		inv, err := correlateInventory(ctx, env, slog.New(slog.DiscardHandler))
		if err != nil {
			return Built{}, err
		}
		b.Proc = &annotator{Processor: b.Proc, topic: env.Config.Topics.Detections, inv: inv}
		return b, nil
	}
}

// annotator is a Processor whose detections are annotated from inv.
type annotator struct {
	pipeline.Processor
	topic string
	inv   *inventory.View
}

var (
	_ pipeline.TransactionCadence = (*annotator)(nil)
	_ pipeline.RowDropper         = (*annotator)(nil)
	_ pipeline.Holder             = (*annotator)(nil)
)

// Process implements pipeline.Processor.
func (a *annotator) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	return a.Processor.Process(ctx, r, func(out *kgo.Record) { emit(a.annotate(out)) })
}

// HoldOutputs implements pipeline.Holder: the wrapped stage holds its
// outputs past Process if it can (the detect stage's workers).
func (a *annotator) HoldOutputs() {
	if h, ok := a.Processor.(pipeline.Holder); ok {
		h.HoldOutputs()
	}
}

// Flush implements pipeline.Holder: the wrapped stage's held outputs,
// annotated as Process's are.
func (a *annotator) Flush(emit func(*kgo.Record)) error {
	if h, ok := a.Processor.(pipeline.Holder); ok {
		return h.Flush(func(out *kgo.Record) { emit(a.annotate(out)) })
	}
	return nil
}

// annotate returns r with its detection annotated, or r itself when it is
// no detection or the inventory adds nothing.
func (a *annotator) annotate(r *kgo.Record) *kgo.Record {
	if r.Topic != a.topic {
		return r
	}
	d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value)
	if err != nil || !inventory.Annotate(d, a.inv.Current(time.Now()).Index) {
		return r
	}
	val, err := schemas.MarshalDetection(d)
	if err != nil {
		return r
	}
	return &kgo.Record{Topic: r.Topic, Partition: r.Partition, Key: r.Key, Value: val, Headers: r.Headers, Timestamp: r.Timestamp}
}

// Transaction implements pipeline.TransactionCadence with the wrapped
// stage's cadence (zero, the runtime's default, when it sets none).
func (a *annotator) Transaction() pipeline.TransactionConfig {
	if c, ok := a.Processor.(pipeline.TransactionCadence); ok {
		return c.Transaction()
	}
	return pipeline.TransactionConfig{}
}

// DroppedRows implements pipeline.RowDropper with the wrapped stage's
// counts.
func (a *annotator) DroppedRows() schemas.RowDrops {
	if d, ok := a.Processor.(pipeline.RowDropper); ok {
		return d.DroppedRows()
	}
	return schemas.RowDrops{}
}
