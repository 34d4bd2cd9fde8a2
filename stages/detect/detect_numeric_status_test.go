package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectNumericOperStatus: an oper-status and admin-status a device
// sends as numbers (the IF-MIB's 1 up, 2 down, 7 lowerLayerDown; a
// native gNMI path whose enum arrives as an integer, which the collector
// types as a gauge) are followed as states, as their strings are: the
// link going down at tick 300 is one link_down, resolved when it is back
// at 350, and an admin shutdown at 500 is one admin_down that explains
// its oper-status going down (no link_down), whether the numbers come as gauges or as unsigned counters.
// Before, a numeric oper-status was scored by the ensemble like a
// temperature: link_down never fired.
func TestDetectNumericOperStatus(t *testing.T) {
	for _, kind := range []schemas.Kind{schemas.KindGauge, schemas.KindCounter} {
		sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
		var recs []*kgo.Record
		octets := uint64(1 << 30)
		for i := range 700 {
			oper, admin := 1.0, 1.0
			switch {
			case i >= 300 && i < 350:
				oper = 7
			case i >= 500 && i < 560:
				oper, admin = 2, 2
			default:
				octets += 10e6
			}
			s := schemas.Sample{TS: t0.Add(time.Duration(i) * 10 * time.Second).UnixNano(), Device: dev, Keys: iface, Source: schemas.SourceGNMI,
				Kind: schemas.KindCounter, Metric: schemas.MetricInOctets, U64: octets}
			sb.Append(&s)
			for _, m := range []struct {
				metric string
				v      float64
			}{{stateevents.MetricAdminStatus, admin}, {stateevents.MetricOperStatus, oper}} {
				s.Kind, s.Metric, s.F64, s.U64 = kind, m.metric, m.v, uint64(m.v)
				sb.Append(&s)
			}
			recs = append(recs, recordOf(t, sb))
		}
		sb.Release()
		var got []string
		for _, d := range process(t, newTestDetect(t, Config{}), recs) {
			if d.Metric == stateevents.MetricOperStatus || d.Metric == stateevents.MetricAdminStatus {
				got = append(got, summary([]*schemas.Detection{d})...)
			}
		}
		want := []string{"firing link_down oper-status@300", "resolved link_down oper-status@350",
			"firing admin_down admin-status@500", "resolved admin_down admin-status@560"}
		if !slices.Equal(got, want) {
			t.Errorf("%s status: %v, want %v", kind, got, want)
		}
	}
}
