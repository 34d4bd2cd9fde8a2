package detections

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

func testBuilder() *Builder {
	return &Builder{Topic: "dets", Source: "telekernel/test", Metrics: pipeline.NewMetrics(prometheus.NewRegistry()),
		Now: func() time.Time { return time.Date(2026, 12, 2, 1, 0, 0, 0, time.FixedZone("x", 3600)) }}
}

// TestNewAndSend: a firing and a resolved detection of one series share
// labels and fingerprint, differ in id, and the resolved one ends at its
// point; custom labels change the fingerprint; Send keys the record by
// fingerprint, attaches the CloudEvents headers, and counts by state.
func TestNewAndSend(t *testing.T) {
	b := testBuilder()
	k := schemas.SeriesKey{Device: "r1", Metric: "/m", Keys: "name=e1"}
	t0, t1 := time.Date(2026, 11, 1, 0, 45, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 55, 0, 0, time.UTC)
	fire := b.New(Transition{Series: k, Firing: true, TS: t0.UnixNano(), StartsAt: t0.UnixNano()}, nil)
	res := b.New(Transition{Series: k, TS: t1.UnixNano(), StartsAt: t0.UnixNano()}, nil)
	if fire.State != schemas.StateFiring || res.State != schemas.StateResolved || fire.EndsAt != nil ||
		res.EndsAt == nil || !res.EndsAt.Equal(t1) || !res.StartsAt.Equal(t0) || !res.EventTime.Equal(t1) {
		t.Fatalf("times: firing %+v, resolved %+v", fire, res)
	}
	if fire.Fingerprint != res.Fingerprint || fire.Fingerprint != schemas.Fingerprint(schemas.AlertLabels("r1", "/m", "name=e1")) ||
		fire.ID != fire.Fingerprint+"-"+"1793493900000000000-firing" || fire.ID == res.ID {
		t.Fatalf("identity: %s %s, %s %s", fire.Fingerprint, fire.ID, res.Fingerprint, res.ID)
	}
	if got := fire.Annotations["summary"]; got != "/m firing on r1 name=e1" {
		t.Errorf("summary %q", got)
	}
	if fire.DetectedAt.Location() != time.UTC || fire.DetectedAt.Hour() != 0 {
		t.Errorf("detectedAt %v, want the clock in UTC", fire.DetectedAt)
	}
	labels := schemas.AlertLabels("r1", "/m", "name=e1")
	labels["detector"] = "x"
	if own := b.New(Transition{Series: k, Firing: true, TS: 1, StartsAt: 1}, labels); own.Fingerprint == fire.Fingerprint || own.Labels["detector"] != "x" {
		t.Errorf("custom labels: %+v", own.Labels)
	}

	fire.Detector, fire.Detectors, fire.Severity = "robust_z", []string{"robust_z"}, schemas.SeverityWarning
	var out []*kgo.Record
	if err := b.Send(func(r *kgo.Record) { out = append(out, r) }, fire); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Topic != "dets" || string(out[0].Key) != fire.Fingerprint {
		t.Fatalf("records %+v", out)
	}
	back, err := schemas.DecodeDetection(kafka.Headers(out[0]), out[0].Value)
	if err != nil || back.ID != fire.ID {
		t.Fatalf("decode: %v %+v", err, back)
	}
	if n := testutil.ToFloat64(b.Metrics.Detections(schemas.StateFiring)); n != 1 {
		t.Errorf("firing detections counted %v, want 1", n)
	}
	bad := b.New(Transition{Series: k, Firing: true, TS: 1, StartsAt: 1}, nil) // no detector, no severity
	if err := b.Send(func(*kgo.Record) { t.Error("an invalid detection was emitted") }, bad); err == nil {
		t.Error("Send of an invalid detection: no error")
	}
}
