package publish

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/internal/arrowpool"
	"github.com/telekernel/telekernel/schemas"
)

// growCounter counts an allocator's calls that grow a buffer.
type growCounter struct {
	memory.Allocator
	grows int
}

func (g *growCounter) Reallocate(size int, b []byte) []byte {
	if size > len(b) {
		g.grows++
	}
	return g.Allocator.Reallocate(size, b)
}

// TestBatchReservesLastRecord checks that a record's columns are reserved
// at the size of the record before, so they grow no more (and a pooled
// allocator keeps no chain of outgrown buffers), and that the reservation
// of 4096 rows stays at 4096 rather than Arrow's next power of two above.
func TestBatchReservesLastRecord(t *testing.T) {
	g := &growCounter{Allocator: arrowpool.New()}
	mem := memory.NewCheckedAllocator(g)
	defer mem.AssertSize(t, 0)
	b := NewBatch(mem, "dev1", schemas.SourceGNMI)
	defer b.Release()
	fill := func(n int) {
		m, k := b.MetricIndex("/m"), b.KeysIndex("name=E1")
		for i := range n {
			switch i % 3 {
			case 0:
				b.AppendCounter(int64(i), m, k, uint64(i))
			case 1:
				b.AppendGauge(int64(i), m, k, float64(i))
			default:
				b.AppendState(int64(i), m, k, "UP")
			}
		}
	}
	fill(4096)
	if g.grows == 0 {
		t.Fatal("the first record did not grow its columns: the counter sees nothing")
	}
	b.NewRecord().Release()
	g.grows = 0
	fill(4096)
	if g.grows != 0 {
		t.Errorf("the second record of the same size grew its columns %d times, want 0", g.grows)
	}
	if c := b.ts.Cap(); c != 4096 {
		t.Errorf("ts column capacity %d after reserving 4096 rows, want 4096", c)
	}
	rec := b.NewRecord()
	if rec.NumRows() != 4096 {
		t.Errorf("%d rows, want 4096", rec.NumRows())
	}
	rec.Release()
	// A smaller record reserves less: the next one grows from there.
	fill(100)
	b.NewRecord().Release()
	fill(1)
	if c := b.ts.Cap(); c > 128 {
		t.Errorf("ts column capacity %d after a 100-row record, want at most 128", c)
	}
	b.NewRecord().Release()
}

// TestPooledAllocatorBatches builds records through a Batch on the pooled
// allocator, checked for leaks, and reads back exactly what was appended
// even though each record reuses the buffers of the one before.
func TestPooledAllocatorBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(arrowpool.New())
	defer mem.AssertSize(t, 0)
	b := NewBatch(mem, "dev1", schemas.SourceGNMI)
	defer b.Release()
	for round := range 5 {
		n := 100 + round*1000
		for i := range n {
			k := b.KeysIndex("name=E" + string(rune('0'+i%10)))
			if i%3 == 0 {
				b.AppendGauge(int64(i), b.MetricIndex("/m/g"), k, float64(round*i))
			} else {
				b.AppendCounter(int64(i), b.MetricIndex("/m/c"), k, uint64(round+i))
			}
		}
		rec := b.NewRecord()
		rows, err := schemas.Samples(rec)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != n {
			t.Fatalf("round %d: %d rows, want %d", round, len(rows), n)
		}
		for i, s := range rows {
			if s.TS != int64(i) || s.Device != "dev1" || (i%3 == 0 && s.F64 != float64(round*i)) || (i%3 != 0 && s.U64 != uint64(round+i)) {
				t.Fatalf("round %d row %d: %+v", round, i, s)
			}
		}
		rec.Release()
	}
	// A builder's grown buffer is recycled too.
	ib := array.NewInt64Builder(mem)
	for i := range 10000 {
		ib.Append(int64(i))
	}
	arr := ib.NewInt64Array()
	if arr.Value(9999) != 9999 {
		t.Fatal("wrong value")
	}
	arr.Release()
	ib.Release()
}
