package detect

import (
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/drift"
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
type driftState = ruleState[drift.Drift]

// newDriftState returns the envelope rule of a gauge series of metric, or
// nil when the rule does not watch metric (drift.Watches). Every rule
// starts from d.drift (New's), sharing its configuration.
func (d *Stage) newDriftState(kind schemas.Kind, metric string) *driftState {
	return newRule(kind == schemas.KindGauge && drift.Watches(metric), d.drift.Fresh)
}

// scoreDrift feeds a gauge's value x at ts to its envelope rule and emits
// the rule's firing or resolved detection.
func (d *Stage) scoreDrift(emit func(*kgo.Record), st *seriesState, ts int64, x float64) error {
	ds := st.drift
	switch ev := ds.r.Update(x); ev {
	case drift.Fired, drift.Resolved:
		return d.emitDrift(emit, st, ruleTransition(st.key, &ds.since, ts, ev == drift.Fired), x)
	}
	return nil
}

// emitDrift emits an envelope rule's detection: observed the value,
// expected the level the envelope is centred on, the band the envelope
// widened by its margin; score 1 on firing, severity warning.
func (d *Stage) emitDrift(emit func(*kgo.Record), st *seriesState, t detections.Transition, x float64) error {
	r := &st.drift.r
	det := d.newRuleDetection(t, st.key, DriftRule, x)
	lo, hi, bandLo, bandHi := r.Envelope()
	det.Expected, det.Band = (lo+hi)/2, schemas.Band{Lower: bandLo, Upper: bandHi}
	if t.Firing {
		det.Annotations["description"] = "left its envelope slowly: " + r.Describe(x)
	} else {
		det.Annotations["description"] = "back inside its envelope, or a step to a new level: " + r.Describe(x)
	}
	return d.sendRuleDetection(emit, det, st.key, "band_lower", bandLo, "band_upper", bandHi)
}

// decodeDrift restores st's envelope rule (made for its metric by
// newDriftState) from b, the bytes cutRule cut; nil b leaves it fresh. A
// rule on a metric that has none is dropped.
func decodeDrift(b []byte, st *seriesState) error {
	if st.drift == nil {
		return nil
	}
	return decodeRule(b, "drift", &st.drift.r, &st.drift.since)
}
