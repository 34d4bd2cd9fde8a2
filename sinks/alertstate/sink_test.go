package alertstate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

var t0 = time.Date(2026, 11, 23, 4, 12, 30, 0, time.UTC)

// detection returns a valid detection of device's in-octets alert at
// minute m of its life.
func detection(device, state, severity string, m int) *schemas.Detection {
	labels := schemas.AlertLabels(device, "/interfaces/interface/state/counters/in-octets", "name=Ethernet1")
	at := t0.Add(time.Duration(m) * time.Minute)
	d := &schemas.Detection{
		Version: schemas.DetectionVersion, EventTime: at, DetectedAt: at, State: state,
		Device: device, Metric: labels["metric"], Keys: labels["keys"],
		Detector: "robust_z", Score: 0.9, Severity: severity, Observed: 10, Expected: 1, Band: schemas.Band{Lower: 0, Upper: 2},
		Labels: labels, StartsAt: t0, Fingerprint: schemas.Fingerprint(labels),
	}
	if state == schemas.StateResolved {
		d.EndsAt = &at
	}
	d.ID = d.Fingerprint + "-" + at.Format(time.RFC3339) + "-" + state
	return d
}

func record(t testing.TB, d *schemas.Detection) *kgo.Record {
	t.Helper()
	v, err := schemas.MarshalDetection(d)
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Topic: "tk.detections", Key: []byte(d.Fingerprint), Value: v}
	for _, h := range schemas.DetectionHeaders(d, "test") {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return r
}

func cluster(t *testing.T) (*kfake.Cluster, kafka.Config, *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	kc := kafka.Config{Brokers: c.ListenAddrs(), ConnectTimeout: 5 * time.Second}
	cl, err := kafka.Connect(context.Background(), kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return c, kc, cl
}

// latest reads topic to its end and returns the last record of every key,
// in the order the partitions hold them.
func latest(t *testing.T, kc kafka.Config, topic string, want int) map[string]*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := kafka.Connect(ctx, kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := map[string]*kgo.Record{}
	for n := 0; n < want; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records", n, want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			if prev, ok := out[string(r.Key)]; ok && (prev.Partition != r.Partition || prev.Offset > r.Offset) {
				t.Errorf("key %s: records on partitions %d and %d", r.Key, prev.Partition, r.Partition)
			}
			out[string(r.Key)] = r
		})
	}
	return out
}

func TestLatestRecordPerFingerprintIsLatestState(t *testing.T) {
	ctx := context.Background()
	_, kc, cl := cluster(t)
	const topic = "tk.alerts.test"
	if err := EnsureTopic(ctx, cl, topic, 3); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopic(ctx, cl, topic, 3); err != nil {
		t.Fatalf("second EnsureTopic: %v", err)
	}
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	compacted := false
	for _, c := range rc.Configs {
		compacted = compacted || (c.Key == "cleanup.policy" && c.MaybeValue() == "compact")
	}
	if !compacted {
		t.Fatalf("%s is not compacted: %+v", topic, rc.Configs)
	}
	s, err := New(Config{Topic: topic}, cl)
	if err != nil {
		t.Fatal(err)
	}
	batches := [][]*schemas.Detection{
		{detection("a", schemas.StateFiring, schemas.SeverityWarning, 0), detection("b", schemas.StateFiring, schemas.SeverityWarning, 0), detection("c", schemas.StateFiring, schemas.SeverityInfo, 0)},
		{detection("a", schemas.StateResolved, schemas.SeverityWarning, 5), detection("b", schemas.StateFiring, schemas.SeverityCritical, 5)},
		// Two states of b in one batch: only the later is written.
		{detection("b", schemas.StateResolved, schemas.SeverityCritical, 9), detection("b", schemas.StateFiring, schemas.SeverityCritical, 10)},
	}
	written := 0
	for _, batch := range batches {
		for _, d := range batch {
			if err := s.Add(ctx, record(t, d)); err != nil {
				t.Fatal(err)
			}
		}
		if s.Pending() != len(batch) {
			t.Fatalf("Pending = %d, want %d", s.Pending(), len(batch))
		}
		n, err := s.Flush(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(batch) || s.Pending() != 0 {
			t.Fatalf("Flush = %d, Pending = %d", n, s.Pending())
		}
		written += len(batch)
	}
	written-- // b's two states in the last batch were one record
	want := map[string]*schemas.Detection{}
	for _, batch := range batches {
		for _, d := range batch {
			want[d.Fingerprint] = d
		}
	}
	got := latest(t, kc, topic, written)
	if len(got) != len(want) {
		t.Fatalf("%d keys, want %d", len(got), len(want))
	}
	for fp, w := range want {
		r := got[fp]
		if r == nil {
			t.Fatalf("no record for %s", fp)
		}
		d, err := schemas.DecodeDetection(nil, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if d.ID != w.ID || d.State != w.State || d.Severity != w.Severity {
			t.Errorf("%s (%s): latest is %s, want %s", fp, w.Device, d.ID, w.ID)
		}
		var ceID string
		for _, h := range r.Headers {
			if h.Key == "ce_id" {
				ceID = string(h.Value)
			}
		}
		if ceID != w.ID {
			t.Errorf("%s: ce_id header %q, want %q", fp, ceID, w.ID)
		}
	}

	loaded, err := Load(ctx, kc, topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != len(want) {
		t.Fatalf("Load: %d alerts, want %d", len(loaded), len(want))
	}
	for fp, w := range want {
		if loaded[fp] == nil || loaded[fp].ID != w.ID {
			t.Errorf("Load: %s is %+v, want %s", fp, loaded[fp], w.ID)
		}
	}
}

func TestLoadEmptyTopic(t *testing.T) {
	ctx := context.Background()
	_, kc, cl := cluster(t)
	if err := EnsureTopic(ctx, cl, "", 2); err != nil {
		t.Fatal(err)
	}
	got, err := Load(ctx, kc, "")
	if err != nil || len(got) != 0 {
		t.Fatalf("Load = %v, %v", got, err)
	}
}

func TestBadInputIsDeadLettered(t *testing.T) {
	_, _, cl := cluster(t)
	s, err := New(Config{}, cl)
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]error{"{": schemas.ErrMalformed, `{"version":2}`: schemas.ErrUnknownVersion} {
		if err := s.Add(context.Background(), &kgo.Record{Value: []byte(v)}); !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", v, err, want)
		}
	}
	if s.Pending() != 0 {
		t.Fatalf("Pending = %d", s.Pending())
	}
}

func TestFailedFlushKeepsTheBatch(t *testing.T) {
	c, _, cl := cluster(t)
	ctx := context.Background()
	if err := EnsureTopic(ctx, cl, "", 1); err != nil {
		t.Fatal(err)
	}
	s, _ := New(Config{}, cl)
	if err := s.Add(ctx, record(t, detection("a", schemas.StateFiring, schemas.SeverityWarning, 0))); err != nil {
		t.Fatal(err)
	}
	c.Close()
	fctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err := s.Flush(fctx)
	if err == nil || !strings.Contains(err.Error(), "cannot produce 1 alert states to tk.alerts") {
		t.Fatalf("err = %v", err)
	}
	if s.Pending() != 1 {
		t.Fatalf("Pending = %d after a failed flush", s.Pending())
	}
}

func TestNewNeedsAClient(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil {
		t.Fatal("no error")
	}
}

// TestNewRejectsBadTopic: New validates its Config and names the field.
func TestNewRejectsBadTopic(t *testing.T) {
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := New(Config{Topic: "bad topic"}, cl); err == nil || !strings.HasPrefix(err.Error(), "alertstate: topic: ") {
		t.Errorf("New(topic %q) = %v, want a topic: error", "bad topic", err)
	}
}

// TestDropPartition: DropPartition forgets the detections of one input
// partition and keeps the others'; an alert whose latest queued detection
// came from another partition keeps it.
func TestDropPartition(t *testing.T) {
	ctx := context.Background()
	_, kc, cl := cluster(t)
	const topic = "tk.alerts.drop"
	if err := EnsureTopic(ctx, cl, topic, 1); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Topic: topic}, cl)
	if err != nil {
		t.Fatal(err)
	}
	add := func(p int32, d *schemas.Detection) {
		r := record(t, d)
		r.Partition = p
		if err := s.Add(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	add(0, detection("a", schemas.StateFiring, schemas.SeverityWarning, 0))
	add(0, detection("a", schemas.StateResolved, schemas.SeverityWarning, 1))
	add(1, detection("b", schemas.StateFiring, schemas.SeverityWarning, 0))
	add(0, detection("c", schemas.StateFiring, schemas.SeverityWarning, 0))
	add(1, detection("c", schemas.StateResolved, schemas.SeverityWarning, 2)) // c moved to partition 1
	s.DropPartition("tk.detections", 0)
	s.DropPartition("tk.detections", 7) // nothing of it
	if s.Pending() != 2 {
		t.Fatalf("Pending = %d after dropping partition 0, want 2", s.Pending())
	}
	if n, err := s.Flush(ctx); n != 2 || err != nil {
		t.Fatalf("Flush = %d, %v", n, err)
	}
	got := latest(t, kc, topic, 2)
	for dev, state := range map[string]string{"b": schemas.StateFiring, "c": schemas.StateResolved} {
		fp := detection(dev, state, schemas.SeverityWarning, 0).Fingerprint
		d, err := schemas.DecodeDetection(nil, got[fp].Value)
		if err != nil || d.State != state {
			t.Errorf("%s: %+v, %v; want %s", dev, d, err, state)
		}
	}
	if len(got) != 2 {
		t.Errorf("%d alerts written, want b and c", len(got))
	}
}
