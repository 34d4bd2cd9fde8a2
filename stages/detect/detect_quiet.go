package detect

import (
	"fmt"
	"maps"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/detections"
)

// QuietRule is the detector name, and the value of the "rule" label, of
// the detections of an error counter's quiet rule
// (detectors/rate.Quiet): the counter moved on so many intervals in a row
// that its own history makes the run improbable. Its alert is apart from
// the ensemble's on the same series (the label gives it its own
// fingerprint).
const QuietRule = "error_run"

// quietStateBytes is the memory of a quiet rule beside the ensemble.
const quietStateBytes = 56

// quietState is an error counter's quiet rule and when its
// alert fired.
type quietState struct {
	q     rate.Quiet
	since int64 // Unix ns of the firing point while it fires
}

// newQuietState returns the quiet rule of a counter series of metric, or
// nil when metric is not an error counter. Every rule starts
// from d.quiet (New's), sharing its configuration.
func (d *Stage) newQuietState(kind schemas.Kind, metric string) *quietState {
	if kind != schemas.KindCounter || !rate.IsQuietCounter(metric) {
		return nil
	}
	return &quietState{q: d.quiet.Fresh()}
}

// scoreQuiet feeds a counter's rate x at ts to its quiet rule and emits
// the rule's firing or resolved detection.
func (d *Stage) scoreQuiet(emit func(*kgo.Record), st *seriesState, ts int64, x float64) error {
	qs := st.quiet
	ev := qs.q.Update(x)
	busy := qs.q.Busy()
	switch ev {
	case rate.QuietFired:
		qs.since = ts
		return d.emitQuiet(emit, st, detections.Transition{Series: st.key, Firing: true, TS: ts, StartsAt: ts}, x, busy)
	case rate.QuietResolved:
		since := qs.since
		qs.since = 0
		return d.emitQuiet(emit, st, detections.Transition{Series: st.key, TS: ts, StartsAt: since}, x, busy)
	}
	return nil
}

// emitQuiet emits a quiet rule's detection: observed the rate, expected 0
// (the band [0, 0]: a quiet counter stays still), score 1 on firing,
// severity warning.
func (d *Stage) emitQuiet(emit func(*kgo.Record), st *seriesState, t detections.Transition, x, busy float64) error {
	k := st.key
	labels := maps.Clone(schemas.AlertLabels(k.Device, k.Metric, k.Keys))
	labels["rule"] = QuietRule
	det := d.det.New(t, labels)
	det.Detector, det.Detectors, det.Severity = QuietRule, []string{QuietRule}, schemas.SeverityWarning
	det.Observed = x
	if t.Firing {
		det.Score = 1
		det.Annotations["description"] = fmt.Sprintf("rising on %d intervals in a row (now %.4g/s); it moved on %.1f%% of intervals before",
			st.quiet.q.Config().Run(busy), x, 100*busy)
	} else {
		det.Annotations["description"] = fmt.Sprintf("no increase on %d intervals in a row", st.quiet.q.Config().Clear)
	}
	det.Annotations["summary"] = detections.Summary(QuietRule, det.State, k)
	d.log.Info("detection", "state", det.State, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
		"event_time", det.EventTime, "detector", QuietRule, "observed", x, "busy", busy, "severity", det.Severity)
	return d.det.Send(emit, det)
}

// appendQuiet appends a series' quiet rule as version 4 records hold it
// (appendRule).
func appendQuiet(dst []byte, qs *quietState) []byte {
	return appendRule(dst, qs.since, &qs.q)
}

// decodeQuiet restores st's quiet rule (made for its metric by
// newQuietState) from b, the bytes cutRule cut; nil b leaves it fresh. A
// rule on a metric that has none is dropped.
func decodeQuiet(b []byte, st *seriesState) error {
	if b == nil || st.quiet == nil {
		return nil
	}
	since, err := decodeRule(b, "quiet counter", &st.quiet.q)
	if err != nil {
		return err
	}
	st.quiet.since = since
	return nil
}
