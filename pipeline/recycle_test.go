package pipeline

import (
	"sync"
	"testing"
	"unsafe"
)

// TestRecyclerReuse: a freed buffer comes back for the next allocation of
// its size class, zeroed and 64-byte aligned; growth in place zeroes the
// new bytes; buffers too large or not the Recycler's are not kept.
func TestRecyclerReuse(t *testing.T) {
	r := NewRecycler()
	b := r.Allocate(100)
	if len(b) != 100 || cap(b) != 128 || uintptr(unsafe.Pointer(&b[0]))%64 != 0 {
		t.Fatalf("len %d cap %d at %p, want 100, 128, 64-byte aligned", len(b), cap(b), &b[0])
	}
	for i := range b {
		b[i] = 0xff
	}
	r.Free(b)
	c := r.Allocate(120)
	if &c[0] != &b[0] {
		t.Fatal("the freed buffer was not reused")
	}
	for i, v := range c {
		if v != 0 {
			t.Fatalf("byte %d of a reused buffer is %#x, want 0", i, v)
		}
	}
	for i := range c {
		c[i] = 0xff
	}
	c = r.Reallocate(128, c[:64])
	if len(c) != 128 || c[63] != 0xff || c[64] != 0 || c[127] != 0 {
		t.Fatalf("growth in place: len %d, bytes 63/64/127 %#x %#x %#x, want 128, 0xff 0 0", len(c), c[63], c[64], c[127])
	}
	d := r.Reallocate(1000, c) // moves to 1024 bytes; c is kept
	if cap(d) != 1024 || d[63] != 0xff || d[64] != 0 || d[999] != 0 {
		t.Fatalf("growth by copy: cap %d, bytes %#x %#x %#x", cap(d), d[63], d[64], d[999])
	}
	if e := r.Allocate(128); &e[0] != &c[0] {
		t.Fatal("the buffer left by a move was not reused")
	}
	big := r.Allocate(MaxRecycled + 1)
	r.Free(big)
	if n := len(r.free[len(r.free)-1]); n != 0 {
		t.Fatalf("kept a buffer larger than MaxRecycled (%d in the last class)", n)
	}
	r.Free(make([]byte, 100)) // not a power of two: not kept
	if n := len(r.free[1]); n != 0 {
		t.Fatalf("kept a foreign buffer (%d)", n)
	}
	for range recycleDepth + 5 {
		r.Free(r.mem.Allocate(64))
	}
	if n := len(r.free[0]); n != recycleDepth {
		t.Fatalf("%d buffers of 64 bytes kept, want at most %d", n, recycleDepth)
	}
	for range recycleDepth {
		r.Free(r.mem.Allocate(MaxRecycled))
	}
	if r.kept > MaxKept || len(r.free[len(r.free)-1]) != MaxKept/MaxRecycled-1 {
		t.Fatalf("kept %d bytes, %d of the largest buffers; want at most %d bytes", r.kept, len(r.free[len(r.free)-1]), MaxKept)
	}
}

// TestRecyclerConcurrent allocates and frees from several goroutines (run
// with -race): no buffer is handed out twice at once.
func TestRecyclerConcurrent(t *testing.T) {
	r := NewRecycler()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				b := r.Allocate(64 + (i*37+g)%4000)
				for j := range b {
					if b[j] != 0 {
						t.Errorf("byte %d not zero", j)
						return
					}
					b[j] = byte(g + 1)
				}
				r.Free(b)
			}
		}()
	}
	wg.Wait()
}
