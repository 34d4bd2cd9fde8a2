package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/alertmanager"
	"github.com/telekernel/telekernel/sinks/alertstate"
)

// TestAlertmanagerRestoresAsItsGroupConsumed: the bridge posted alert a
// firing and then resolved and committed both in its group
// (PREFIX-alertmanager); the alertstate stage (PREFIX-alertstate) wrote
// and committed a's firing state only. newAlertmanager restores the
// alerts firing as the bridge's group consumed the detections: none.
// Before, it restored tk.alerts alone, a firing, which the bridge then
// re-posted for ever.
func TestAlertmanagerRestoresAsItsGroupConsumed(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := config.Default()
	cfg.Kafka.Brokers = cluster.ListenAddrs()
	cfg.Topics.GroupPrefix = "tkr"
	cfg.Alertmanager.URL = "http://127.0.0.1:9"
	cfg.Alertmanager.Source = alertmanager.SourceDetections
	admin, err := kafka.Connect(ctx, cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	det := cfg.Topics.Detections
	if err := kafka.EnsureTopics(ctx, admin, kafka.TopicSpec{Name: det, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	if err := alertstate.EnsureTopic(ctx, admin, cfg.Topics.AlertState, 1); err != nil {
		t.Fatal(err)
	}
	labels := schemas.AlertLabels("a", "/interfaces/interface/state/counters/in-octets", "name=Ethernet1")
	t0 := time.Date(2026, 11, 23, 4, 12, 30, 0, time.UTC)
	end := t0.Add(10 * time.Minute)
	for i, st := range []string{schemas.StateFiring, schemas.StateResolved} {
		d := &schemas.Detection{Version: schemas.DetectionVersion, EventTime: t0, DetectedAt: t0, State: st,
			Device: "a", Metric: labels["metric"], Keys: labels["keys"], Detector: "robust_z", Score: 0.9,
			Severity: schemas.SeverityWarning, Labels: labels, StartsAt: t0, Fingerprint: schemas.Fingerprint(labels)}
		if st == schemas.StateResolved {
			d.EndsAt, d.EventTime, d.DetectedAt = &end, end, end
		}
		d.ID = d.Fingerprint + "-" + st
		v, err := schemas.MarshalDetection(d)
		if err != nil {
			t.Fatal(err)
		}
		r := &kgo.Record{Topic: det, Key: []byte(d.Fingerprint), Value: v, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "test"))}
		if err := admin.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			r.Topic = cfg.Topics.AlertState
			if err := admin.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	adm := kadm.NewClient(admin)
	for group, at := range map[string]int64{"tkr-alertstate": 1, "tkr-alertmanager": 2} {
		var os kadm.Offsets
		os.AddOffset(det, 0, at, -1)
		if _, err := adm.CommitOffsets(ctx, group, os); err != nil {
			t.Fatal(err)
		}
	}
	am, err := newAlertmanager(ctx, &cfg, cfg.Kafka, admin, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer am.Close(ctx)
	if n := am.Firing(); n != 0 {
		t.Errorf("the bridge restored %d firing alert(s), want none: a's resolution was posted and committed", n)
	}
}
