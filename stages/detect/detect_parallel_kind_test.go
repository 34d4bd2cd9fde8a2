package detect

import (
	"bytes"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// TestDetectHeldKindChange: a counter series whose alert fires in a record
// held with HoldOutputs, then sent as a gauge in the next record: seriesOf
// reads whether its alert fires (kind change) while the held record's
// updates may still run on a worker. The outputs are the serial path's,
// and under -race no worker's update of the ensemble races the read.
func TestDetectHeldKindChange(t *testing.T) {
	ticks := traffic(420, func(i int) bool { return i >= 400 }, func(int) bool { return false })
	for i := range ticks {
		ticks[i].oper, ticks[i].admin = "", ""
	}
	recs := records(t, ticks, 60)
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	for i := range 60 {
		sb.Append(&schemas.Sample{TS: t0.Add(time.Duration(420+i) * 10 * time.Second).UnixNano(), Device: dev, Keys: iface,
			Kind: schemas.KindGauge, Metric: schemas.MetricInOctets, F64: 0, Source: schemas.SourceSim})
	}
	recs = append(recs, recordOf(t, sb))
	want, wantLog, _ := runWorkers(t, Config{}, 1, 1, false, recs)
	if !bytes.Contains(want, []byte("firing")) {
		t.Fatalf("serial run: no alert fires:\n%s", want)
	}
	for range 20 {
		got, gotLog, _ := runWorkers(t, Config{}, 2, 1, true, recs)
		if !bytes.Equal(got, want) || !bytes.Equal(gotLog, wantLog) {
			t.Fatalf("2 workers, hold: outputs or changelog differ from the serial run's:\n%s\n%s", firstDiff(got, want), firstDiff(gotLog, wantLog))
		}
	}
}
