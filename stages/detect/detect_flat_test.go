package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestDetectFlatSeriesDeparts: a sensor reading that held exactly one
// value for a day (a temperature read in whole degrees in a steady room,
// an optic's power) and then moves for ten minutes fires as far as it
// moves against its band, the floored spread: 3 °C off 40 °C nothing, 6 °C
// (the band's edge) a warning, 20 °C critical, an optic from −3.2 to
// −12 dBm critical. Before, every member's record waited for 150 scores
// above 0, which a flat series never gives: none of them fired.
func TestDetectFlatSeriesDeparts(t *testing.T) {
	const temp, optic = "/components/component/state/temperature/instant", "/components/component/optical-channel/state/input-power/instant"
	for _, c := range []struct {
		metric     string
		base, step float64
		want       []string // severities of the firing detections
	}{
		{temp, 40, 43, nil},
		{temp, 40, 46, []string{schemas.SeverityWarning}},
		{temp, 40, 60, []string{schemas.SeverityCritical}},
		{optic, -3.2, -12, []string{schemas.SeverityCritical}},
	} {
		sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
		var recs []*kgo.Record
		const day = 8640
		for i := range day + 200 {
			x := c.base
			if i >= day && i < day+60 {
				x = c.step
			}
			sb.Append(&schemas.Sample{TS: t0.Add(time.Duration(i) * 10 * time.Second).UnixNano(), Device: "r1", Keys: "name=Sensor1",
				Source: schemas.SourceGNMI, Kind: schemas.KindGauge, Metric: c.metric, F64: x})
			if i%360 == 359 {
				recs = append(recs, recordOf(t, sb))
			}
		}
		recs = append(recs, recordOf(t, sb))
		sb.Release()
		var got []string
		for _, d := range process(t, newTestDetect(t, Config{}), recs) {
			if d.State == schemas.StateFiring {
				got = append(got, d.Severity)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s flat at %v, %v for ten minutes: firing %v, want %v", c.metric, c.base, c.step, got, c.want)
		}
	}
}
