package detect

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/internal/binenc"
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
const quietStateBytes = 72

// quietState is an error counter's quiet rule and when its alert fired,
// and the counter's decrease pending (rate.Glitch: the counter gives a
// rate on every sample, so it takes no rate.Refresh, which tells a glitch
// from a reset on the others).
type quietState struct {
	ruleState[rate.Quiet]
	glitch rate.Glitch
}

// newQuietState returns the quiet rule of a counter series of metric, or
// nil when metric is not an error counter. Every rule starts
// from d.quiet (New's), sharing its configuration.
func (d *Stage) newQuietState(kind schemas.Kind, metric string) *quietState {
	if kind != schemas.KindCounter || !isQuietCounter(metric) {
		return nil
	}
	return &quietState{ruleState: ruleState[rate.Quiet]{r: d.quiet.Fresh()}}
}

// isQuietCounter reports whether metric is a counter that stays still on
// a healthy interface: rate.IsQuietCounter's OpenConfig error counters,
// and the error counters of the vendor models' interface series the stage
// ties to their interface (stateevents.IsInterface: IOS-XR's
// generic-counters crc-errors, SR Linux's in-error-packets).
func isQuietCounter(metric string) bool {
	return rate.IsQuietCounter(metric) || stateevents.IsInterface(metric) && rate.IsErrorLeaf(metric)
}

// scoreQuiet feeds a counter's rate x at ts to its quiet rule and emits
// the rule's firing or resolved detection.
func (d *Stage) scoreQuiet(emit func(*kgo.Record), st *seriesState, ts int64, x float64) error {
	qs := st.quiet
	ev := qs.r.Update(x)
	busy := qs.r.Busy()
	switch ev {
	case rate.QuietFired, rate.QuietResolved:
		return d.emitQuiet(emit, st, ruleTransition(st.key, &qs.since, ts, ev == rate.QuietFired), x, busy)
	}
	return nil
}

// emitQuiet emits a quiet rule's detection: observed the rate, expected 0
// (the band [0, 0]: a quiet counter stays still), score 1 on firing,
// severity warning.
func (d *Stage) emitQuiet(emit func(*kgo.Record), st *seriesState, t detections.Transition, x, busy float64) error {
	det := d.newRuleDetection(t, st.key, QuietRule, x)
	if t.Firing {
		det.Annotations["description"] = fmt.Sprintf("rising on %d intervals in a row (now %.4g/s); it moved on %.1f%% of intervals before",
			st.quiet.r.Config().Run(busy), x, 100*busy)
	} else {
		det.Annotations["description"] = fmt.Sprintf("no increase on %d intervals in a row", st.quiet.r.Config().Clear)
	}
	return d.sendRuleDetection(emit, det, st.key, "busy", busy)
}

// appendQuiet appends a series' quiet rule as version 4 records hold it
// (appendRule).
func appendQuiet(dst []byte, qs *quietState) []byte {
	return appendRule(dst, qs.since, &qs.r)
}

// appendGlitch appends a quiet counter's decrease pending as version 7
// records hold it after the rule: its length (uvarint), then
// rate.(*Glitch).AppendBinary.
func appendGlitch(dst []byte, qs *quietState) []byte {
	body, _ := qs.glitch.AppendBinary(nil) // cannot fail: plain values
	return append(binenc.AppendU(dst, uint64(len(body))), body...)
}

// decodeQuiet restores st's quiet rule (made for its metric by
// newQuietState) from b, the bytes cutRule cut, and the counter's
// decrease pending from glitch (version 7); nil b or glitch leaves it
// fresh. A rule on a metric that has none is dropped.
func decodeQuiet(b, glitch []byte, st *seriesState) error {
	if st.quiet == nil {
		return nil
	}
	if err := decodeRule(b, "quiet counter", &st.quiet.r, &st.quiet.since); err != nil {
		return err
	}
	if glitch == nil {
		return nil
	}
	rest, err := st.quiet.glitch.Decode(glitch)
	switch {
	case err != nil:
		return err
	case len(rest) != 0:
		return fmt.Errorf("cannot decode counter glitch state: %d unexpected bytes", len(rest))
	}
	return nil
}
