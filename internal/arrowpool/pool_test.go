package arrowpool

import (
	"runtime"
	"testing"
	"unsafe"
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
	var p Pool
	b := p.Get(1000)
	if len(b) != 1000 || cap(b) != classSize(classFor(1000)) {
		t.Fatalf("len %d cap %d", len(b), cap(b))
	}
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%alignment != 0 {
		t.Fatal("not 64-byte aligned")
	}
	for i := range b {
		b[i] = 0xff
	}
	p.Put(b)
	// A foreign slice (capacity not a class's) is not kept.
	p.Put(make([]byte, 1001))
	c := p.Get(1010) // the same class
	for i, v := range c[:cap(c)] {
		if v != 0 {
			t.Fatalf("byte %d of a reused buffer is %d, want zeroed", i, v)
		}
	}
	if got := p.Get(1 << 27); len(got) != 1<<27 {
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
