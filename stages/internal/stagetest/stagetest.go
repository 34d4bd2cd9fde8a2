// Package stagetest holds the helpers the stages' tests share: samples
// messages for a topic and reading a topic back.
package stagetest

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// ProduceFleet writes ticks of a fleet to topic, one message per device
// and tick, keyed by device.
func ProduceFleet(t testing.TB, ctx context.Context, cl *kgo.Client, topic string, f *sim.Fleet, ticks int) {
	t.Helper()
	b := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer b.Release()
	var recs []*kgo.Record
	hs := kafka.RecordHeaders(schemas.SamplesHeaders())
	flush := func(device string) {
		rec := b.NewRecord()
		defer rec.Release()
		val, err := schemas.EncodeSamples(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(device), Value: val, Headers: hs})
	}
	for range ticks {
		dev := ""
		f.Next(func(s *schemas.Sample) {
			if dev != "" && s.Device != dev {
				flush(dev)
			}
			dev = s.Device
			b.Append(s)
		})
		flush(dev)
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// ConsumeAll reads up to n committed records of topic from its start,
// waiting at most 3 s for them.
func ConsumeAll(t testing.TB, ctx context.Context, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cons, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var out []*kgo.Record
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	for len(out) < n && cctx.Err() == nil {
		cons.PollFetches(cctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// SamplesRecord returns a samples message of n points of one counter series
// (device d1), 10 s apart from ts0.
func SamplesRecord(t testing.TB, topic string, n int, ts0 int64) *kgo.Record {
	t.Helper()
	b := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Append(&schemas.Sample{TS: ts0 + int64(i)*1e10, Device: "d1", Metric: "/m", Keys: "name=e1", Kind: schemas.KindCounter, U64: uint64(i) * 1000, Source: "sim"})
	}
	rec := b.NewRecord()
	defer rec.Release()
	val, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: topic, Key: []byte("d1"), Value: val, Headers: kafka.RecordHeaders(schemas.SamplesHeaders())}
}
