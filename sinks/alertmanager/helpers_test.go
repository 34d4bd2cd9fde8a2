package alertmanager

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

var t0 = time.Date(2026, 11, 23, 4, 12, 30, 0, time.UTC)

// detection returns a valid detection of a series in the given state; a
// resolved one ends 10 minutes after it started.
func detection(device, state, severity string) *schemas.Detection {
	labels := schemas.AlertLabels(device, "/interfaces/interface/state/counters/in-octets", "name=Ethernet1")
	d := &schemas.Detection{
		Version: schemas.DetectionVersion, EventTime: t0, DetectedAt: t0, State: state,
		Device: device, Metric: labels["metric"], Keys: labels["keys"],
		Detector: "robust_z", Score: 0.97, Severity: severity,
		Observed: 2150000, Expected: 118500000, Band: schemas.Band{Lower: 96200000, Upper: 141000000},
		Labels: labels, Annotations: map[string]string{"summary": "Traffic drop on " + device},
		StartsAt: t0, Fingerprint: schemas.Fingerprint(labels),
	}
	if state == schemas.StateResolved {
		end := t0.Add(10 * time.Minute)
		d.EndsAt = &end
		d.EventTime, d.DetectedAt = end, end
	}
	d.ID = d.Fingerprint + "-" + d.EventTime.Format(time.RFC3339Nano) + "-" + state
	return d
}

// record encodes d as the detect stage writes it to the detection topic.
func record(t testing.TB, d *schemas.Detection) *kgo.Record {
	t.Helper()
	v, err := schemas.MarshalDetection(d)
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Key: []byte(d.Fingerprint), Value: v}
	for _, h := range schemas.DetectionHeaders(d, "test") {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return r
}
