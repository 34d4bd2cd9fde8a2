package alertstate

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// DefaultTopic is the compacted alerts topic.
const DefaultTopic = kafka.DefaultAlertsTopic

// Sink writes detections to the compacted alerts topic, keyed by
// fingerprint. It implements pipeline.Sink: Add queues, Flush produces
// synchronously. Safe for concurrent use.
//
// It also implements pipeline.PartitionDropper: when the runner gives up
// an input partition whose detections it holds unwritten (the group took
// it away while a flush was being retried), DropPartition forgets them.
// Their next owner writes them, and then newer states of the same alerts;
// a late write of the older state from this member would land after those
// and, the topic being compacted on the fingerprint, be the alert's
// latest state until it changes again (an alert shown firing that
// resolved).
type Sink struct {
	cl    *kgo.Client
	topic string

	mu      sync.Mutex
	pending []pending
	index   map[string]int // fingerprint -> position in pending
	added   int            // detections added since the last successful Flush
	// from counts the detections of added by input partition.
	from map[inputPartition]int
}

// pending is a queued record and the input partition of its detection.
type pending struct {
	rec  *kgo.Record
	from inputPartition
}

type inputPartition struct {
	topic     string
	partition int32
}

var (
	_ pipeline.Sink             = (*Sink)(nil)
	_ pipeline.PartitionDropper = (*Sink)(nil)
)

// Config configures the Sink.
type Config struct {
	// Topic is the compacted alerts topic; default DefaultTopic.
	Topic string `yaml:"topic"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Topic, DefaultTopic)
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	if err := kafka.CheckTopicName(c.Topic); err != nil {
		return fmt.Errorf("topic: %w", err)
	}
	return nil
}

// New returns a Sink of cfg (with its defaults applied) producing with cl.
// The caller owns cl (e.g. from kafka.Connect) and closes it after the
// Sink's last Flush; cl must not be transactional. Create the topic with
// EnsureTopic.
func New(cfg Config, cl *kgo.Client) (*Sink, error) {
	if cl == nil {
		return nil, errors.New("alertstate: a kafka client is required")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("alertstate: %w", err)
	}
	return &Sink{cl: cl, topic: cfg.Topic, index: map[string]int{}, from: map[inputPartition]int{}}, nil
}

// EnsureTopic creates the compacted topic with the given number of
// partitions if it does not exist (an existing topic is left as it is).
func EnsureTopic(ctx context.Context, cl *kgo.Client, topic string, partitions int32) error {
	if topic == "" {
		topic = DefaultTopic
	}
	return kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: topic, Partitions: partitions, Compacted: true})
}

// Add validates one detection record and queues it for the next Flush,
// keyed by its fingerprint; of several detections of one alert in a
// batch only the latest is kept. A record that is not a valid detection
// returns an error wrapping schemas.ErrMalformed or
// schemas.ErrUnknownVersion (the Runner dead-letters it). Add copies what
// it keeps.
func (s *Sink) Add(_ context.Context, r *kgo.Record) error {
	d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value)
	if err != nil {
		return fmt.Errorf("alertstate: %w", err)
	}
	out := &kgo.Record{
		Topic:   s.topic,
		Key:     []byte(d.Fingerprint),
		Value:   append([]byte(nil), r.Value...),
		Headers: make([]kgo.RecordHeader, len(r.Headers)),
	}
	for i, h := range r.Headers {
		out.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: append([]byte(nil), h.Value...)}
	}
	from := inputPartition{r.Topic, r.Partition}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.added++
	s.from[from]++
	if i, ok := s.index[d.Fingerprint]; ok {
		s.pending[i] = pending{out, from}
		return nil
	}
	s.index[d.Fingerprint] = len(s.pending)
	s.pending = append(s.pending, pending{out, from})
	return nil
}

// DropPartition forgets the detections added from topic's partition and
// not yet flushed (pipeline.PartitionDropper): the runner gave the
// partition up without writing them, and its next owner reads them again
// from the committed offset. An alert whose queued record came from
// another partition keeps it. Safe for concurrent use.
func (s *Sink) DropPartition(topic string, partition int32) {
	from := inputPartition{topic, partition}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.from[from]
	if !ok {
		return
	}
	s.added -= n
	delete(s.from, from)
	kept := s.pending[:0]
	clear(s.index)
	for _, p := range s.pending {
		if p.from == from {
			continue
		}
		s.index[string(p.rec.Key)] = len(kept)
		kept = append(kept, p)
	}
	clear(s.pending[len(kept):])
	s.pending = kept
}

// Pending returns the number of detections added and not yet flushed.
func (s *Sink) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.added
}

// Flush produces the queued records and waits until Kafka acknowledged
// all of them; it returns the number of detections flushed. On failure it
// keeps the batch, so a retry produces it again (a duplicate of the latest
// state is harmless in a compacted topic).
func (s *Sink) Flush(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		n := s.added
		s.added = 0
		clear(s.from)
		return n, nil
	}
	recs := make([]*kgo.Record, len(s.pending))
	for i, p := range s.pending {
		recs[i] = p.rec
	}
	if err := s.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return 0, fmt.Errorf("alertstate: cannot produce %d alert states to %s: %w", len(s.pending), s.topic, err)
	}
	n := s.added
	clear(s.pending)
	s.pending = s.pending[:0]
	clear(s.index)
	clear(s.from)
	s.added = 0
	return n, nil
}

// Load reads topic from its start to its current end and returns the
// latest detection of every fingerprint: the current state of every alert,
// e.g. to seed alertmanager.Sink.Restore when a process starts. A
// tombstone (a key without a value) deletes its key; other records that
// are not valid detections are skipped. kc is the connection config;
// Load uses its own client and closes it.
func Load(ctx context.Context, kc kafka.Config, topic string) (map[string]*schemas.Detection, error) {
	if topic == "" {
		topic = DefaultTopic
	}
	out := map[string]*schemas.Detection{}
	err := kafka.ReadAll(ctx, kc, topic, func(r *kgo.Record) {
		if r.Value == nil {
			// A tombstone deletes its key, as compaction will: the earlier
			// record of the key must not outlive it until then.
			delete(out, string(r.Key))
			return
		}
		if d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value); err == nil {
			out[d.Fingerprint] = d
		}
	})
	if err != nil {
		return nil, fmt.Errorf("alertstate: %w", err)
	}
	return out, nil
}
