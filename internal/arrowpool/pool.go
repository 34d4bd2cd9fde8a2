// Package arrowpool is the Arrow allocator that recycles the buffers Arrow
// frees, and the pool of byte slices under it: a collector's batches and
// encoded records, and the detect stage's decoded messages, reuse the same
// buffers instead of making garbage for the GC. It is a leaf: it imports
// only Arrow's memory package.
package arrowpool

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Size classes of Pool: eight per power of two from 64 bytes to 64 MiB,
// so a buffer is at most 12.5 % larger than asked (a power of two, which
// Arrow's builders ask for, is a class of its own). Larger buffers are not
// pooled.
const (
	minClassShift = 6
	maxClassShift = 26
	subClasses    = 8
	numClasses    = (maxClassShift-minClassShift)*subClasses + 1
	alignment     = 64 // what Arrow's Go allocator guarantees
)

// Pool recycles byte slices by size class, so a hot path that takes a
// buffer and gives it back (an Arrow builder's column, an encoded Kafka
// record until its acknowledgement) stops making garbage for the GC. Each
// class is a sync.Pool: buffers nobody took again are dropped over two GC
// cycles, so the pool holds about what is in use, not a high-water mark.
// Buffers are 64-byte aligned. Safe for concurrent use.
type Pool struct {
	classes [numClasses]sync.Pool
}

// classSize returns the capacity of class c.
func classSize(c int) int {
	k, j := c/subClasses+minClassShift, c%subClasses
	return 1<<k + j<<(k-3)
}

// classFor returns the smallest class whose buffers hold n bytes, or -1
// when n is larger than every class.
func classFor(n int) int {
	if n <= 1<<minClassShift {
		return 0
	}
	k := bits.Len(uint(n)) - 1 // 2^k <= n < 2^(k+1)
	step := 1 << (k - 3)
	j := (n - 1<<k + step - 1) / step // 0..8
	c := (k-minClassShift)*subClasses + j
	if c >= numClasses {
		return -1
	}
	return c
}

// CapFor returns the capacity of the buffer Get(n) returns.
func (p *Pool) CapFor(n int) int {
	if c := classFor(n); c >= 0 {
		return classSize(c)
	}
	return n
}

// Get returns a zeroed buffer of length n from the pool, or a new one.
func (p *Pool) Get(n int) []byte {
	c := classFor(n)
	if c < 0 {
		return alignedMake(n)
	}
	if v, ok := p.classes[c].Get().(*[]byte); ok {
		b := (*v)[:n]
		clear(b[:cap(b)])
		return b
	}
	return alignedMake(classSize(c))[:n]
}

// Put gives b back for a later Get. Only buffers Get returned are kept
// (their capacity is a class's exactly and they are aligned); others are
// left to the GC. The caller must not use b afterwards.
func (p *Pool) Put(b []byte) {
	n := cap(b)
	if n == 0 || !aligned(b[:1]) {
		return
	}
	if c := classFor(n); c >= 0 && classSize(c) == n {
		b = b[:0]
		p.classes[c].Put(&b)
	}
}

// alignedMake returns a zeroed 64-byte aligned slice whose length and
// capacity are both n. Go places an object of a size class that is a
// multiple of 64 bytes (every class from 512 bytes on, and the powers of
// two Arrow asks for) or of more than 32 KiB (whole pages) on a 64-byte
// boundary, so those sizes are allocated exactly; only others, and a
// placement that is not aligned after all, take 64 bytes of padding.
// The padding pushed a power-of-two buffer into the next size class (a
// 32 KiB column took 40 KiB), the "unused in spans" of the collector's
// peak memory.
func alignedMake(n int) []byte {
	if n >= exactAlignedMin || n&(n-1) == 0 {
		if buf := make([]byte, n); aligned(buf) {
			return buf
		}
	}
	buf := make([]byte, n+alignment)
	shift := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(buf))) % alignment); r != 0 {
		shift = alignment - r
	}
	return buf[shift : shift+n : shift+n]
}

// exactAlignedMin is the smallest size from which every Go size class is a
// multiple of alignment.
const exactAlignedMin = 512

// aligned reports whether b's first byte sits on an alignment boundary.
func aligned(b []byte) bool {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))%alignment == 0
}

// Allocator is an Arrow memory.Allocator that recycles the buffers
// Arrow frees (a released array's, a builder's that grew) for later
// allocations, where Go's allocator leaves them to the GC. A collector's
// batches allocate the same column sizes record after record, and the
// detect stage decodes message after message of the same shape, so in
// steady state they allocate nothing, and the garbage that sets the
// process's peak memory and the GC's share of the CPU is gone. Memory it returns is
// zeroed and 64-byte aligned, as Go's allocator's. Safe for concurrent
// use; its zero value is ready.
//
// Whoever uses it must follow Arrow's Retain/Release discipline strictly:
// a buffer released while still read is handed to the next allocation.
type Allocator struct {
	pool Pool
}

var _ memory.Allocator = (*Allocator)(nil)

// New returns an empty Allocator.
func New() *Allocator { return &Allocator{} }

// Allocate returns a zeroed buffer of size bytes.
func (a *Allocator) Allocate(size int) []byte { return a.pool.Get(size) }

// Reallocate returns b resized to size, in place when its capacity allows,
// else in a new buffer holding b's bytes (b is then recycled).
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		return b[:size]
	}
	nb := a.pool.Get(size)
	copy(nb, b)
	a.pool.Put(b)
	return nb
}

// Free recycles b, which must come from this allocator.
func (a *Allocator) Free(b []byte) { a.pool.Put(b) }
