package gnmi_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/gnmi"
)

// TestSampleStallNotStretchedByHeartbeat: a STREAM SAMPLE
// subscription every 1 s, without suppress_redundant, that also sets
// heartbeat_interval: 60s (a setting operators copy onto every
// subscription; in SAMPLE mode the spec applies it only with
// suppress_redundant, so the target still sends every leaf every second).
// The target sends its first sample and then goes silent with the stream
// open (a hung telemetry daemon). The default stall timeout is 3 sample
// intervals, at least 10 s: the stream should be cut as stalled (and
// re-subscribed) within ~10 s. Before, the collector took 3 × the heartbeat
// instead (180 s): the silent target stayed "up" for three minutes.
func TestSampleStallNotStretchedByHeartbeat(t *testing.T) {
	addr, streams := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		if err := send(chassis(t, time.Now().UnixNano(), 1, 2)); err != nil {
			return nil
		}
		_ = send(syncResponse)
		return nil // then silent, the stream left open
	})
	cfg := fastConfig([]gnmi.Target{{Name: "hb1", Address: addr}})
	cfg.Subscriptions = []gnmi.Subscription{{Name: "counters", Paths: []string{"/interfaces"},
		StreamMode: "sample", SampleInterval: time.Second, HeartbeatInterval: time.Minute}}
	c, stop := runCollector(t, cfg, fakeKafka(t), slog.New(slog.DiscardHandler))
	defer stop()
	waitFor(t, 5*time.Second, "the subscription", func() bool { return c.Stats().Connects == 1 })
	deadline := time.Now().Add(13 * time.Second)
	for c.Stats().Failures == 0 && streams.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("a SAMPLE stream (1 s interval) silent for 13 s was not detected as stalled (failures %d, streams %d): its stall timeout was stretched to 3 × heartbeat_interval",
				c.Stats().Failures, streams.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
