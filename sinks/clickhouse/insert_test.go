package clickhouse

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// oneKind returns n samples of kind k on testDay, over 3 devices and 7
// interfaces, with values derived from the row number.
func oneKind(k schemas.Kind, n int) []schemas.Sample {
	out := make([]schemas.Sample, n)
	for i := range out {
		s := schemas.Sample{TS: testDay.Add(time.Duration(i) * 1_001 * time.Millisecond).UnixNano(),
			Device: fmt.Sprintf("edge%d", i%3), Keys: fmt.Sprintf("name=Ethernet%d", i%7), Kind: k, Source: schemas.SourceGNMI}
		switch k {
		case schemas.KindCounter:
			s.Metric, s.U64 = metricInOctets, uint64(i)*1_000_003
		case schemas.KindGauge:
			s.Metric, s.F64 = metricTemp, float64(i)/4
		default:
			s.Metric, s.Str = metricOper, fmt.Sprintf("UP%d", i%4)
		}
		out[i] = s
	}
	return out
}

// TestAppendSamplesSparseColumns converts blocks whose value columns are
// entirely null (counters only, gauges only), blocks that mix kinds, a
// block longer than one append run (appendRows), and
// records sliced out of longer ones (whose dictionaries hold more entries
// than the slice has rows), all through one scratch, and reads them back.
// An all-null block after a mixed one must not keep the mixed block's
// pointers.
func TestAppendSamplesSparseColumns(t *testing.T) {
	for _, l := range []schemas.Layout{schemas.LayoutLegacy, schemas.LayoutModern} {
		t.Run(l.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			counters, gauges, states := oneKind(schemas.KindCounter, 40), oneKind(schemas.KindGauge, 30), oneKind(schemas.KindState, 20)
			mixed := append(append(append([]schemas.Sample{}, states[:5]...), gauges[:5]...), counters[:5]...)
			// More rows than one append run: three runs (9 000, 9 000, 2 000
			// rows) in one block.
			long3 := oneKind(schemas.KindGauge, 2*9*1000+2000)
			long := records(mem, counters, len(counters))
			defer release(long)
			sliced := long[0].NewSlice(3, 6)
			defer sliced.Release()

			var blocks [][]arrow.RecordBatch
			var want []schemas.Sample
			for _, blk := range []struct {
				rows []schemas.Sample
				per  int
			}{{mixed, 4}, {counters, 10}, {mixed, 15}, {gauges, 7}, {mixed, 6}, {states, 20}, {long3, 1000}} {
				recs := records(mem, blk.rows, blk.per)
				defer release(recs)
				blocks, want = append(blocks, recs), append(want, blk.rows...)
			}
			blocks, want = append(blocks, []arrow.RecordBatch{sliced}), append(want, counters[3:6]...)
			blocks, want = append(blocks, []arrow.RecordBatch{sliced, sliced}), append(want, append(counters[3:6:6], counters[3:6]...)...)

			b, cols := newTestBlock(t, schemas.TableSamples, l)
			sc := new(sampleScratch)
			for i, recs := range blocks {
				if _, err := checkSamples(recs); err != nil {
					t.Fatalf("block %d: %v", i, err)
				}
				if err := appendSamples(b, cols, sc, recs, l); err != nil {
					t.Fatalf("block %d: %v", i, err)
				}
			}
			sc.reset()
			checkSampleRows(t, b.wireRoundTrip(t), cols, l, want)
		})
	}
}
