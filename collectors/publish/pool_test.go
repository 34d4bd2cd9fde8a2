package publish

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

func TestClassFor(t *testing.T) {
	f := func(n, want int) {
		t.Helper()
		c := classFor(n)
		got := -1
		if c >= 0 {
			got = classSize(c)
		}
		if got != want {
			t.Errorf("classFor(%d) holds %d bytes, want %d", n, got, want)
		}
	}
	f(1, 64)
	f(64, 64)
	f(65, 72)
	f(72, 72)
	f(73, 80)
	f(127, 128)
	f(128, 128)
	f(4096, 4096)
	f(4097, 4608)
	f(900<<10, 960<<10)
	f(1<<26, 1<<26)
	f(1<<26+1, -1)
	// Every class is the smallest that holds its own size, at most 12.5 %
	// above the size asked.
	for c := range numClasses {
		if classFor(classSize(c)) != c {
			t.Fatalf("class %d (%d bytes) is not its own size's class", c, classSize(c))
		}
	}
	for n := 1; n < 1<<20; n = n*9/8 + 1 {
		if s := classSize(classFor(n)); s < n || (n > 64 && s > n+n/8) {
			t.Fatalf("classFor(%d) holds %d bytes", n, s)
		}
	}
}

func TestBufPoolReuses(t *testing.T) {
	var p bufPool
	b := p.get(1000)
	if len(b) != 1000 || cap(b) != classSize(classFor(1000)) {
		t.Fatalf("len %d cap %d", len(b), cap(b))
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%alignment != 0 {
		t.Fatal("not 64-byte aligned")
	}
	for i := range b {
		b[i] = 0xff
	}
	p.put(b)
	// A foreign slice (capacity not a class's) is not kept.
	p.put(make([]byte, 1001))
	c := p.get(1010) // the same class
	for i, v := range c[:cap(c)] {
		if v != 0 {
			t.Fatalf("byte %d of a reused buffer is %d, want zeroed", i, v)
		}
	}
	if got := p.get(1 << 27); len(got) != 1<<27 {
		t.Fatalf("an unpooled size: len %d", len(got))
	}
}

// TestAlignedMakeExact checks that every class's buffer is 64-byte aligned
// and zeroed, and that the power-of-two sizes Arrow's builders ask for
// take no more heap than they hold: 64 bytes of padding would push each
// into the next Go size class (a 32 KiB buffer into 40 KiB).
func TestAlignedMakeExact(t *testing.T) {
	for c := range numClasses {
		n := classSize(c)
		if n > 1<<20 {
			break
		}
		b := alignedMake(n)
		if len(b) != n || cap(b) != n || !aligned(b) {
			t.Fatalf("class %d (%d B): len %d cap %d aligned %v", c, n, len(b), cap(b), aligned(b))
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("class %d: byte %d is %d, want zeroed", c, i, v)
			}
		}
	}
	for _, n := range []int{4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10} {
		const count = 64
		keep := make([][]byte, 0, count)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range count {
			keep = append(keep, alignedMake(n))
		}
		runtime.ReadMemStats(&after)
		if per := float64(after.TotalAlloc-before.TotalAlloc) / count; per > float64(n)*1.05 {
			t.Errorf("a %d B buffer took %.0f B of heap, want at most 5%% more", n, per)
		}
		runtime.KeepAlive(keep)
	}
}

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
	g := &growCounter{Allocator: NewPooledAllocator()}
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
	mem := memory.NewCheckedAllocator(NewPooledAllocator())
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
