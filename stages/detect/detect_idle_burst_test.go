package detect

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestDetectIdlePortBurst: a port idle for a week (its in-octets
// counter still) that carries 1 MB/s for five minutes and goes idle again
// fires nothing when the traffic stops, with the default configuration:
// idle is the port's habit. Before, level_shift took the burst for the
// port's level and fired a critical drop when it ended, which stayed on
// until traffic came back (8 hours later in this test, still firing).
func TestDetectIdlePortBurst(t *testing.T) {
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var recs []*kgo.Record
	var octets uint64
	const week = 7 * 8640
	for i := range week + 3000 {
		if i >= week && i < week+30 {
			octets += 10e6
		}
		sb.Append(&schemas.Sample{TS: t0.Add(time.Duration(i) * 10 * time.Second).UnixNano(), Device: "r1", Keys: "name=e1", Source: schemas.SourceGNMI,
			Kind: schemas.KindCounter, Metric: schemas.MetricInOctets, U64: octets})
		if i%360 == 359 {
			recs = append(recs, recordOf(t, sb))
		}
	}
	recs = append(recs, recordOf(t, sb))
	for _, d := range process(t, newTestDetect(t, Config{}), recs) {
		if i := d.EventTime.Sub(t0) / (10 * time.Second); i > week+30 {
			t.Errorf("%s after the burst ended: %s", summary([]*schemas.Detection{d}), d.Annotations["description"])
		}
	}
}
