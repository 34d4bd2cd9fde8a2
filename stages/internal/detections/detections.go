// Package detections is the one detection builder of the stages that emit
// detections (detect, power): it fills what every detection shares from an
// alert transition and sends it in the CloudEvents binding.
package detections

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// Builder builds and sends the detections of one stage. Its fields are set
// once; it is safe for concurrent use if Metrics and Now are.
type Builder struct {
	Topic   string            // the detection topic
	Source  string            // the CloudEvents source of the detections
	Metrics *pipeline.Metrics // counts the detections sent, by state
	Now     func() time.Time  // the clock of DetectedAt
}

// Transition is an alert transition of one series: what a detection
// reports.
type Transition struct {
	Series   schemas.SeriesKey
	Firing   bool  // the alert fired; false: it resolved
	TS       int64 // the time of the point that caused it, Unix ns
	StartsAt int64 // when the alert fired, Unix ns
}

// State returns the detection state of t: schemas.StateFiring or
// schemas.StateResolved.
func (t *Transition) State() string {
	if t.Firing {
		return schemas.StateFiring
	}
	return schemas.StateResolved
}

// New returns the detection of t with the fields every detector fills
// alike: version, identity (fingerprint, timestamp and state), event and
// detection times, the series, the labels (labels, or the series' alert
// labels when nil) and their fingerprint, startsAt, endsAt on a resolved
// one, and the summary annotation "METRIC STATE on DEVICE KEYS". The caller
// fills the detector, score, severity, values, band and description.
func (b *Builder) New(t Transition, labels map[string]string) *schemas.Detection {
	k, state := t.Series, t.State()
	if labels == nil {
		labels = schemas.AlertLabels(k.Device, k.Metric, k.Keys)
	}
	fp := schemas.Fingerprint(labels)
	det := &schemas.Detection{
		Version:    schemas.DetectionVersion,
		ID:         fmt.Sprintf("%s-%d-%s", fp, t.TS, state),
		EventTime:  time.Unix(0, t.TS).UTC(),
		DetectedAt: b.Now().UTC(),
		State:      state,
		Device:     k.Device, Metric: k.Metric, Keys: k.Keys,
		Labels:      labels,
		Annotations: map[string]string{"summary": Summary(k.Metric, state, k)},
		StartsAt:    time.Unix(0, t.StartsAt).UTC(),
		Fingerprint: fp,
	}
	if !t.Firing {
		end := det.EventTime
		det.EndsAt = &end
	}
	return det
}

// Summary is the summary annotation of a detection of what (a metric or a
// rule) on series k: "WHAT STATE on DEVICE KEYS".
func Summary(what, state string, k schemas.SeriesKey) string {
	return fmt.Sprintf("%s %s on %s %s", what, state, k.Device, k.Keys)
}

// Send emits det to the detection topic keyed by its fingerprint, in the
// CloudEvents binding, and counts it.
func (b *Builder) Send(emit func(*kgo.Record), det *schemas.Detection) error {
	val, err := schemas.MarshalDetection(det)
	if err != nil {
		return fmt.Errorf("%w: %v", pipeline.ErrStop, err)
	}
	b.Metrics.Detections(det.State).Inc()
	emit(&kgo.Record{Topic: b.Topic, Key: []byte(det.Fingerprint), Value: val, Headers: kafka.RecordHeaders(schemas.DetectionHeaders(det, b.Source))})
	return nil
}
