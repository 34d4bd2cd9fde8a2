package detect

import (
	"fmt"
	"maps"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/drift"
	"github.com/telekernel/telekernel/internal/binenc"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/detections"
)

// DriftRule is the detector name, and the value of the "rule" label, of
// the detections of an optic power's envelope rule (detectors/drift): the
// series left the envelope it showed while healthy, slowly (a decay the
// ensemble's baselines follow). Its alert is apart from the ensemble's on
// the same series (the label gives it its own fingerprint).
const DriftRule = "drift"

// driftStateBytes is the memory of an envelope rule beside the ensemble.
const driftStateBytes = drift.StateBytes + 8

// driftState is a gauge's envelope rule and when its alert fired.
type driftState struct {
	r     drift.Drift
	since int64 // Unix ns of the firing point while it fires
}

// newDriftState returns the envelope rule of a gauge series of metric, or
// nil when the rule does not watch metric (drift.Watches). Every rule
// starts from d.drift (New's), sharing its configuration.
func (d *Stage) newDriftState(kind schemas.Kind, metric string) *driftState {
	if kind != schemas.KindGauge || !drift.Watches(metric) {
		return nil
	}
	return &driftState{r: d.drift.Fresh()}
}

// scoreDrift feeds a gauge's value x at ts to its envelope rule and emits
// the rule's firing or resolved detection.
func (d *Stage) scoreDrift(emit func(*kgo.Record), st *seriesState, ts int64, x float64) error {
	ds := st.drift
	switch ds.r.Update(x) {
	case drift.Fired:
		ds.since = ts
		return d.emitDrift(emit, st, detections.Transition{Series: st.key, Firing: true, TS: ts, StartsAt: ts}, x)
	case drift.Resolved:
		since := ds.since
		ds.since = 0
		return d.emitDrift(emit, st, detections.Transition{Series: st.key, TS: ts, StartsAt: since}, x)
	}
	return nil
}

// emitDrift emits an envelope rule's detection: observed the value,
// expected the level the envelope is centred on, the band the envelope
// widened by its margin; score 1 on firing, severity warning.
func (d *Stage) emitDrift(emit func(*kgo.Record), st *seriesState, t detections.Transition, x float64) error {
	k, r := st.key, &st.drift.r
	labels := maps.Clone(schemas.AlertLabels(k.Device, k.Metric, k.Keys))
	labels["rule"] = DriftRule
	det := d.det.New(t, labels)
	det.Detector, det.Detectors, det.Severity = DriftRule, []string{DriftRule}, schemas.SeverityWarning
	lo, hi, bandLo, bandHi := r.Envelope()
	det.Observed, det.Expected, det.Band = x, (lo+hi)/2, schemas.Band{Lower: bandLo, Upper: bandHi}
	if t.Firing {
		det.Score = 1
		det.Annotations["description"] = "left its envelope slowly: " + r.Describe(x)
	} else {
		det.Annotations["description"] = "back inside its envelope, or a step to a new level: " + r.Describe(x)
	}
	det.Annotations["summary"] = detections.Summary(DriftRule, det.State, k)
	d.log.Info("detection", "state", det.State, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
		"event_time", det.EventTime, "detector", DriftRule, "observed", x, "band_lower", bandLo, "band_upper", bandHi, "severity", det.Severity)
	return d.det.Send(emit, det)
}

// ruleRecord is the record of a rule beside the ensemble (rate.Quiet,
// drift.Drift).
type ruleRecord interface {
	AppendBinary(dst []byte) ([]byte, error)
	Decode(b []byte) ([]byte, error)
}

// appendRule appends a rule beside the ensemble as version 4 and 5
// records hold it: its length (uvarint), then since (varint) and the
// rule's record.
func appendRule(dst []byte, since int64, r ruleRecord) []byte {
	body := binenc.AppendI(nil, since)
	body, _ = r.AppendBinary(body) // cannot fail: plain values
	return append(binenc.AppendU(dst, uint64(len(body))), body...)
}

// cutRule splits b, a version 4 or 5 record after its version byte, into
// the rule's bytes and the rest; what names the rule in errors.
func cutRule(b []byte, what string) (rule, rest []byte, err error) {
	r := binenc.Reader{B: b}
	n := r.U()
	if r.Err != nil || n > uint64(len(r.B)) {
		return nil, nil, fmt.Errorf("cannot decode %s state: %d bytes announced, %d left", what, n, len(r.B))
	}
	return r.B[:n], r.B[n:], nil
}

// decodeRule restores rule from b, the bytes cutRule cut, and returns
// the since it was stored with; what names the rule in errors.
func decodeRule(b []byte, what string, rule ruleRecord) (since int64, err error) {
	r := binenc.Reader{B: b}
	since = r.I()
	if r.Err != nil {
		return 0, fmt.Errorf("cannot decode %s state: %w", what, r.Err)
	}
	rest, err := rule.Decode(r.B)
	if err != nil {
		return 0, err
	}
	if len(rest) != 0 {
		return 0, fmt.Errorf("cannot decode %s state: %d unexpected bytes", what, len(rest))
	}
	return since, nil
}

// decodeDrift restores st's envelope rule (made for its metric by
// newDriftState) from b, the bytes cutRule cut; nil b leaves it fresh. A
// rule on a metric that has none is dropped.
func decodeDrift(b []byte, st *seriesState) error {
	if b == nil || st.drift == nil {
		return nil
	}
	since, err := decodeRule(b, "drift", &st.drift.r)
	if err != nil {
		return err
	}
	st.drift.since = since
	return nil
}
