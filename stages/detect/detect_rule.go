package detect

import (
	"fmt"
	"maps"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/binenc"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/detections"
)

// The rules beside the ensemble (the quiet rule of error counters, the
// envelope rule of optic powers) share how their alerts fire and resolve,
// how their detections are built and sent, and how their state is stored.

// ruleState is a rule beside the ensemble (R: rate.Quiet, drift.Drift)
// and when its alert fired.
type ruleState[R any] struct {
	r     R
	since int64 // Unix ns of the firing point while it fires
}

// newRule returns a fresh rule for a series the rule watches, nil for one
// it does not (fresh is then not called).
func newRule[R any](watched bool, fresh func() R) *ruleState[R] {
	if !watched {
		return nil
	}
	return &ruleState[R]{r: fresh()}
}

// ruleTransition returns the transition of a rule's alert at ts, firing
// when fired, else resolving, and keeps the firing point in since: set on
// firing, read and cleared on resolving.
func ruleTransition(k schemas.SeriesKey, since *int64, ts int64, fired bool) detections.Transition {
	if fired {
		*since = ts
		return detections.Transition{Series: k, Firing: true, TS: ts, StartsAt: ts}
	}
	start := *since
	*since = 0
	return detections.Transition{Series: k, TS: ts, StartsAt: start}
}

// newRuleDetection starts the detection of rule on series k: the series'
// alert labels with rule=RULE (so its alert is apart from the ensemble's),
// rule as its detector, severity warning, observed x, score 1 on firing.
func (d *Stage) newRuleDetection(t detections.Transition, k schemas.SeriesKey, rule string, x float64) *schemas.Detection {
	labels := maps.Clone(schemas.AlertLabels(k.Device, k.Metric, k.Keys))
	labels["rule"] = rule
	det := d.det.New(t, labels)
	det.Detector, det.Detectors, det.Severity = rule, []string{rule}, schemas.SeverityWarning
	det.Observed = x
	if t.Firing {
		det.Score = 1
	}
	return det
}

// sendRuleDetection adds the summary to det, a rule's detection on series
// k, logs it (attrs between the observed value and the severity) and
// sends it.
func (d *Stage) sendRuleDetection(emit func(*kgo.Record), det *schemas.Detection, k schemas.SeriesKey, attrs ...any) error {
	det.Annotations["summary"] = detections.Summary(det.Detector, det.State, k)
	args := append([]any{"state", det.State, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
		"event_time", det.EventTime, "detector", det.Detector, "observed", det.Observed}, attrs...)
	d.log.Info("detection", append(args, "severity", det.Severity)...)
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

// decodeRule restores rule from b, the bytes cutRule cut, and on success
// sets since to the firing point it was stored with; nil b leaves both
// as they are. what names the rule in errors.
func decodeRule(b []byte, what string, rule ruleRecord, since *int64) error {
	if b == nil {
		return nil
	}
	r := binenc.Reader{B: b}
	at := r.I()
	if r.Err != nil {
		return fmt.Errorf("cannot decode %s state: %w", what, r.Err)
	}
	rest, err := rule.Decode(r.B)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("cannot decode %s state: %d unexpected bytes", what, len(rest))
	}
	*since = at
	return nil
}
