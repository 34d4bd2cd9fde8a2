package backtest

import (
	"context"
	"io"

	"github.com/telekernel/telekernel/schemas"
)

// sliceSource replays batches held in memory.
type sliceSource struct {
	batches [][]schemas.Sample
	i       int
}

// Batches returns a Source that replays batches in order. Each batch must
// hold samples of one device (see Source).
func Batches(batches [][]schemas.Sample) Source { return &sliceSource{batches: batches} }

// Next implements Source.
func (s *sliceSource) Next(context.Context) ([]schemas.Sample, error) {
	if s.i >= len(s.batches) {
		return nil, io.EOF
	}
	s.i++
	return s.batches[s.i-1], nil
}

// Close implements Source.
func (s *sliceSource) Close() error { return nil }
