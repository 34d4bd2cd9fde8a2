package detect

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestDetectKindChangeStartsCold: a series whose kind changes between
// counter and gauge starts cold. The case in the field: a collector that
// published IOS-XR's native bytes-received as a gauge (its running total)
// and, upgraded, publishes it as a counter; a stage restored from the
// changelog fed the rates to the running total's baseline, a drop of six
// orders of magnitude, and alerted on every such series. Also through a
// checkpoint taken before the change.
func TestDetectKindChangeStartsCold(t *testing.T) {
	const n, change = 400, 250
	recs := kindChangeRecords(t, n, change, 1)
	d := newTestDetect(t, Config{})
	if dets := process(t, d, recs); len(dets) != 0 {
		t.Errorf("detections across the kind change: %v", summary(dets))
	}
	a, b := newTestDetect(t, Config{}), newTestDetect(t, Config{})
	process(t, a, recs[:change-10])
	for k, v := range checkpoint(a) {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if dets := process(t, b, recs[change-10:]); len(dets) != 0 {
		t.Errorf("restored, detections across the kind change: %v", summary(dets))
	}
}

// TestDetectQuietRuleNative: an interface's error counter that starts
// moving on every interval is an error_run alert on the vendor models the
// stage ties to an interface too (IOS-XR's generic-counters crc-errors,
// SR Linux's in-error-packets), not only on OpenConfig's; a drop counter
// is not (a congested port drops on every interval of its busy hour).
func TestDetectQuietRuleNative(t *testing.T) {
	const n, from = 600, 400
	for _, c := range []struct {
		metric, keys string
		want         bool
	}{
		{"/interfaces/interface/state/counters/in-errors", "name=Ethernet1", true}, // OpenConfig, as before
		{"Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/generic-counters/crc-errors", xrIfKeys, true},
		{"/interface/statistics/in-error-packets", srlIfKeys, true},
		{"Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/generic-counters/input-drops", xrIfKeys, false},
		{"/system/errors/error-count", "", false}, // not an interface's
	} {
		var recs []*kgo.Record
		sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
		var v uint64
		for i := range n {
			if i%20 == 7 || i >= from { // 5 % of intervals, then every one
				v += 3
			}
			s := schemas.Sample{TS: t0.Add(time.Duration(i) * 10 * time.Second).UnixNano(), Device: dev, Source: schemas.SourceGNMI,
				Kind: schemas.KindCounter, Metric: c.metric, Keys: c.keys, U64: v}
			sb.Append(&s)
			if (i+1)%60 == 0 {
				recs = append(recs, recordOf(t, sb))
			}
		}
		sb.Release()
		fired := false
		for _, d := range process(t, newTestDetect(t, Config{}), recs) {
			if d.Detector == QuietRule && d.State == schemas.StateFiring {
				fired = true
				if at := d.EventTime.Sub(t0); at < from*10*time.Second || at > (from+30)*10*time.Second {
					t.Errorf("%s: error_run at %v, want within 5 minutes of %v", c.metric, at, from*10*time.Second)
				}
			}
		}
		if fired != c.want {
			t.Errorf("%s: error_run fired %v, want %v", c.metric, fired, c.want)
		}
	}
}

// TestKindChangeWithinRecord: TestDetectKindChangeStartsCold with several
// ticks per record, the change inside one: the series starts cold at its
// first counter row, and nothing fires. Before, seriesOf found the series
// of a row by the record's earlier rows of it without looking at the row's
// kind, so the first counter row was scored on the gauge's state (its
// counter baseline 0: the whole running total over 10 s, a rate a million
// times the usual), and the series fired.
func TestKindChangeWithinRecord(t *testing.T) {
	recs := kindChangeRecords(t, 400, 250, 6) // 250 is not a multiple of 6
	d := newTestDetect(t, Config{})
	if dets := process(t, d, recs); len(dets) != 0 {
		t.Errorf("detections across a kind change within a record: %v", summary(dets))
	}
}

// kindChangeRecords returns n samples of IOS-XR's native bytes-received
// at 10 Mb/s, one every 10 s, as a gauge (its running total) before row
// change and as a counter from it, perRecord samples to a record.
func kindChangeRecords(t *testing.T, n, change, perRecord int) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	for i := range n {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		total := uint64(1e12) + uint64(i)*12_500_000 + uint64(i%7)*100_000 // 10 Mb/s, some jitter
		s := schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Metric: nativeClock, Keys: xrIfKeys}
		if i < change {
			s.Kind, s.F64 = schemas.KindGauge, float64(total)
		} else {
			s.Kind, s.U64 = schemas.KindCounter, total
		}
		sb.Append(&s)
		if (i+1)%perRecord == 0 || i == n-1 {
			recs = append(recs, recordOf(t, sb))
		}
	}
	return recs
}
