package sinktest

import (
	"context"
	"errors"
	"sync"

	"github.com/telekernel/telekernel/pipeline"
)

// Dropper is a sink that keeps what it was given per input partition
// (pipeline.PartitionDropper) and says how much it holds.
type Dropper interface {
	pipeline.Sink
	pipeline.PartitionDropper
	Pending() int
}

// DownSink is a Dropper whose flushes fail until Up: a sink whose server
// is away, for the rebalance tests of the sinks that drop a lost
// partition's rows.
type DownSink struct {
	Dropper
	up   chan struct{}
	once sync.Once

	mu      sync.Mutex
	tries   int // flushes that failed
	flushed int // rows flushed
}

// NewDownSink returns s down, or up at once if up is set.
func NewDownSink(s Dropper, up bool) *DownSink {
	d := &DownSink{Dropper: s, up: make(chan struct{})}
	if up {
		d.Up()
	}
	return d
}

// Up lets the flushes through.
func (s *DownSink) Up() { s.once.Do(func() { close(s.up) }) }

// Flush fails while the sink is down, else flushes s.
func (s *DownSink) Flush(ctx context.Context) (int, error) {
	select {
	case <-s.up:
	default:
		s.mu.Lock()
		s.tries++
		s.mu.Unlock()
		return 0, errors.New("sink down")
	}
	n, err := s.Dropper.Flush(ctx)
	s.mu.Lock()
	s.flushed += n
	s.mu.Unlock()
	return n, err
}

// Counts returns the flushes that failed and the rows flushed.
func (s *DownSink) Counts() (tries, flushed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries, s.flushed
}
