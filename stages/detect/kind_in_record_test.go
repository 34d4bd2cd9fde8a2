package detect

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestKindChangeWithinRecord: TestDetectKindChangeStartsCold with several
// ticks per record, the change inside one: the series starts cold at its
// first counter row, and nothing fires. Before, seriesOf found the series
// of a row by the record's earlier rows of it without looking at the row's
// kind, so the first counter row was scored on the gauge's state (its
// counter baseline 0: the whole running total over 10 s, a rate a million
// times the usual), and the series fired.
func TestKindChangeWithinRecord(t *testing.T) {
	const n, change, perRecord = 400, 250, 6 // 250 is not a multiple of 6
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
	d := newTestDetect(t, Config{})
	if dets := process(t, d, recs); len(dets) != 0 {
		t.Errorf("detections across a kind change within a record: %v", summary(dets))
	}
}
