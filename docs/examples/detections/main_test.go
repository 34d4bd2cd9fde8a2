package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

func detection(t *testing.T, topic, device, state string, minute int) *kgo.Record {
	t.Helper()
	labels := schemas.AlertLabels(device, "/interfaces/interface/state/counters/in-octets", "name=Ethernet1")
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	at := start.Add(time.Duration(minute) * time.Minute)
	d := &schemas.Detection{Version: schemas.DetectionVersion, EventTime: at, DetectedAt: at, State: state,
		Device: device, Metric: labels["metric"], Keys: labels["keys"], Detector: "robust_z", Score: 0.93,
		Severity: schemas.SeverityCritical, Observed: 9.1e8, Expected: 1.2e8, Band: schemas.Band{Lower: 0, Upper: 2e8},
		Labels: labels, Annotations: map[string]string{"summary": "in-octets rate far above its usual level"},
		StartsAt: start, Fingerprint: schemas.Fingerprint(labels)}
	if state == schemas.StateResolved {
		d.EndsAt = &at
	}
	d.ID = d.Fingerprint + "-" + at.Format(time.RFC3339) + "-" + state
	v, err := schemas.MarshalDetection(d)
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Topic: topic, Key: []byte(d.Fingerprint), Value: v}
	for _, h := range schemas.DetectionHeaders(d, "telekernel/detect") {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return r
}

// TestConsumeRealKafka produces detections as telekernel does (plus a
// re-delivered one and one of an unknown version) to the real Kafka and
// runs the example consumer on them.
func TestConsumeRealKafka(t *testing.T) {
	brokers := strings.Split(testenv.Service(t, "TK_KAFKA"), ",")
	cl, err := kafka.Connect(context.Background(), kafka.Config{Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	id := time.Now().Format("150405.000000")
	topic, group := "tk-test-detections-"+id, "tk-test-group-"+id
	if err := kafka.EnsureTopics(context.Background(), cl, kafka.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), topic) }()
	recs := []*kgo.Record{
		detection(t, topic, "edge1", schemas.StateFiring, 1),
		detection(t, topic, "edge2", schemas.StateFiring, 2),
		detection(t, topic, "edge1", schemas.StateFiring, 1), // re-delivered
		detection(t, topic, "edge1", schemas.StateResolved, 7),
	}
	future := detection(t, topic, "edge3", schemas.StateFiring, 3)
	for i, h := range future.Headers {
		if h.Key == schemas.HeaderSchemaVersion {
			future.Headers[i].Value = []byte("2")
		}
	}
	recs = append(recs, future)
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var out testenv.LogBuffer // Consume writes while the test reads
	a := NewAlerts(&out)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Consume(ctx, brokers, topic, group, a) }()
	for deadline := time.Now().Add(20 * time.Second); strings.Count(out.String(), "\n") < 4; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("consumer printed:\n%s", out.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Logf("consumer output:\n%s", got)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	want := []string{"FIRING", "FIRING", "RESOLVED", "skip"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want %s…", i, lines[i], w)
		}
	}
	if !strings.Contains(lines[3], `version "2"`) || len(a.Firing) != 1 {
		t.Errorf("unknown version line %q; %d firing, want 1 (edge2)", lines[3], len(a.Firing))
	}
}
