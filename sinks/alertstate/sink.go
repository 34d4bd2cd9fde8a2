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
type Sink struct {
	cl    *kgo.Client
	topic string

	mu      sync.Mutex
	pending []*kgo.Record
	index   map[string]int // fingerprint -> position in pending
	added   int            // detections added since the last successful Flush
}

var _ pipeline.Sink = (*Sink)(nil)

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
	return &Sink{cl: cl, topic: cfg.Topic, index: map[string]int{}}, nil
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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.added++
	if i, ok := s.index[d.Fingerprint]; ok {
		s.pending[i] = out
		return nil
	}
	s.index[d.Fingerprint] = len(s.pending)
	s.pending = append(s.pending, out)
	return nil
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
		return n, nil
	}
	if err := s.cl.ProduceSync(ctx, s.pending...).FirstErr(); err != nil {
		return 0, fmt.Errorf("alertstate: cannot produce %d alert states to %s: %w", len(s.pending), s.topic, err)
	}
	n := s.added
	clear(s.pending)
	s.pending = s.pending[:0]
	clear(s.index)
	s.added = 0
	return n, nil
}

// Load reads topic from its start to its current end and returns the
// latest detection of every fingerprint: the current state of every alert,
// e.g. to seed alertmanager.Sink.Restore when a process starts. Records
// that are not valid detections are skipped. kc is the connection config;
// Load uses its own client and closes it.
func Load(ctx context.Context, kc kafka.Config, topic string) (map[string]*schemas.Detection, error) {
	if topic == "" {
		topic = DefaultTopic
	}
	out := map[string]*schemas.Detection{}
	err := kafka.ReadAll(ctx, kc, topic, func(r *kgo.Record) {
		if d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value); err == nil {
			out[d.Fingerprint] = d
		}
	})
	if err != nil {
		return nil, fmt.Errorf("alertstate: %w", err)
	}
	return out, nil
}
