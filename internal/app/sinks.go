package app

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/parquet"
)

// parquetSink adapts a parquet.Writer to pipeline.Sink.
type parquetSink struct {
	w   *parquet.Writer
	mem memory.Allocator
}

var _ pipeline.Sink = (*parquetSink)(nil)

func (s *parquetSink) Add(_ context.Context, r *kgo.Record) error {
	rec, err := schemas.DecodeSamples(s.mem, headersOf(r), r.Value)
	if err != nil {
		return err
	}
	defer rec.Release()
	return s.w.Add(r.Topic, r.Partition, r.Offset, rec)
}

func (s *parquetSink) Flush(ctx context.Context) (int, error) {
	files, err := s.w.Flush(ctx)
	n := 0
	for _, f := range files {
		n += int(f.Rows)
	}
	return n, err
}

func (s *parquetSink) Pending() int { return s.w.BufferedRows() }

func headersOf(r *kgo.Record) []schemas.Header {
	hs := make([]schemas.Header, len(r.Headers))
	for i, h := range r.Headers {
		hs[i] = schemas.Header{Key: h.Key, Value: h.Value}
	}
	return hs
}
