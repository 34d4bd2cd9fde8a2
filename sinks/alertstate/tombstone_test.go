package alertstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// TestLoadHonoursTombstones: a tombstone (a record with the key and no
// value) deletes the key from a compacted topic, e.g. one an operator
// writes to retire an alert whose device is gone for good. Load drops the
// key as Kafka's compaction will. Before, Load skipped the tombstone as an
// invalid detection and kept the key's earlier record: until compaction
// reached it (the active segment is never compacted, for days on a quiet
// topic), the Alertmanager bridge restored that alert firing at every
// start and re-posted it for ever. On a real Kafka with TK_KAFKA set,
// else on kfake.
func TestLoadHonoursTombstones(t *testing.T) {
	ctx := context.Background()
	topic, kc, cl := "tk.alerts.tombstone", kafka.Config{}, (*kgo.Client)(nil)
	if broker := os.Getenv("TK_KAFKA"); broker != "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		topic = "test-tombstone-" + hex.EncodeToString(b)
		kc = kafka.Config{Brokers: []string{broker}}
		var err error
		if cl, err = kafka.Connect(ctx, kc); err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		defer func() { _, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), topic) }()
	} else {
		_, kc, cl = cluster(t)
	}
	if err := EnsureTopic(ctx, cl, topic, 1); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Topic: topic}, cl)
	if err != nil {
		t.Fatal(err)
	}
	a := detection("a", schemas.StateFiring, schemas.SeverityWarning, 0)
	b := detection("b", schemas.StateFiring, schemas.SeverityWarning, 0)
	for _, d := range []*schemas.Detection{a, b} {
		if err := s.Add(ctx, record(t, d)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte(a.Fingerprint)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got, err := Load(ctx, kc, topic)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got[a.Fingerprint]; ok || got[b.Fingerprint] == nil || len(got) != 1 {
		t.Fatalf("Load = %v, want b only (a tombstoned)", got)
	}
}
