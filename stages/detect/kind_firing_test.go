package detect

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestKindChangeWhileFiringResolves: a gauge series whose alert fires
// when its collector starts publishing it as a counter: the alert is
// resolved at the first counter sample, saying the kind changed, and the
// series starts cold (the counter's steady rates fire nothing). Before,
// the series kept its gauge state "until the alert resolves": the
// counter's rates were scored against the gauge's baseline, six orders of
// magnitude apart, for about an hour.
func TestKindChangeWhileFiringResolves(t *testing.T) {
	const n, change = 400 + 360, 400
	var recs []*kgo.Record
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	for i := range n {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		total := uint64(1e12) + uint64(i)*12_500_000 + uint64(i%7)*100_000
		s := schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Metric: nativeClock, Keys: xrIfKeys}
		if i < change {
			s.Kind, s.F64 = schemas.KindGauge, float64(total)
			if i >= change-5 {
				s.F64 *= 3 // a spike that fires just before the change
			}
		} else {
			s.Kind, s.U64 = schemas.KindCounter, total
		}
		sb.Append(&s)
		recs = append(recs, recordOf(t, sb))
	}
	d := newTestDetect(t, Config{})
	dets := process(t, d, recs)
	t.Logf("%v", summary(dets))
	checkKindChangeResolves(t, dets, change, "gauge to counter")
}

// TestKindChangeCounterToGaugeWhileFiringResolves: the reverse, a counter
// whose alert fires when it turns gauge, with another series of the
// device moving the partition's clock and series_expiry 20m: resolved at
// the change, and never expired as a stopped series. Before, the gauge
// rows of the kept counter state did not move its latest sample time, so
// series_expiry dropped it as silent while it had a sample every 10 s.
func TestKindChangeCounterToGaugeWhileFiringResolves(t *testing.T) {
	const n, change = 400 + 360, 400
	var recs []*kgo.Record
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var total uint64 = 1e12
	for i := range n {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		step := uint64(12_500_000) + uint64(i%7)*100_000
		if i >= change-5 {
			step *= 5 // a burst that fires just before the change
		}
		total += step
		s := schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Metric: nativeClock, Keys: xrIfKeys}
		if i < change {
			s.Kind, s.U64 = schemas.KindCounter, total
		} else {
			s.Kind, s.F64 = schemas.KindGauge, float64(total)
		}
		sb.Append(&s)
		// Another series of the device, which moves the partition's clock.
		o := schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Metric: "/system/memory/state/used", Kind: schemas.KindGauge, F64: 4e9 + float64(i%5)*1e6}
		sb.Append(&o)
		recs = append(recs, recordOf(t, sb))
	}
	d := newTestDetect(t, Config{SeriesExpiry: 20 * time.Minute})
	dets := process(t, d, recs)
	t.Logf("%v", summary(dets))
	checkKindChangeResolves(t, dets, change, "counter to gauge")
}

// checkKindChangeResolves checks that dets fired before the kind change
// at row change, resolved at it (its description naming the change, what),
// and neither fired again nor resolved as a stopped series after it.
func checkKindChangeResolves(t *testing.T, dets []*schemas.Detection, change int, what string) {
	t.Helper()
	at := t0.Add(time.Duration(change) * 10 * time.Second)
	fired, resolved := false, false
	for _, det := range dets {
		switch {
		case det.State == schemas.StateFiring && det.EventTime.Before(at):
			fired = true
		case det.State == schemas.StateFiring:
			t.Errorf("fired at %v, after the kind change at %v: the series should start cold", det.EventTime.Sub(t0), at.Sub(t0))
		case det.EventTime.Equal(at) && strings.Contains(det.Annotations["description"], "changed from "+what):
			resolved = true
		case strings.Contains(det.Annotations["description"], "the series stopped"):
			t.Errorf("resolved at %v as a stopped series (%q), while the series had a sample every 10 s", det.EventTime.Sub(t0), det.Annotations["description"])
		}
	}
	if !fired {
		t.Fatal("no alert fired before the kind change: the scenario needs one firing at the change")
	}
	if !resolved {
		t.Errorf("the alert firing at the change was not resolved at it (at %v, naming the change from %s): %v", at.Sub(t0), what, summary(dets))
	}
}
