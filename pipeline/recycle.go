package pipeline

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Recycler is an Arrow allocator that keeps the buffers it is given back
// (Free) and hands them out again, so a stage that decodes one message
// after another reuses the same few megabytes instead of allocating every
// message's buffers anew for the garbage collector. Like Arrow's
// GoAllocator it returns 64-byte aligned, zeroed memory; its buffers are
// powers of two from 64 bytes to MaxRecycled, larger ones are not kept. It
// keeps at most recycleDepth buffers of each size and MaxKept bytes in
// all. It is safe for concurrent use.
//
// A user of its memory must not keep a reference into a buffer after
// releasing the Arrow array that owns it: the bytes are reused (a string
// read from a record must be cloned to outlive it, as the stages do).
type Recycler struct {
	mu   sync.Mutex
	free [recycleClasses][][]byte
	kept int // bytes in free
	mem  memory.GoAllocator
}

const (
	minRecycleShift = 6  // 64 bytes
	maxRecycleShift = 24 // 16 MiB
	recycleClasses  = maxRecycleShift - minRecycleShift + 1
	recycleDepth    = 16
	// MaxRecycled is the largest buffer a Recycler keeps.
	MaxRecycled = 1 << maxRecycleShift
	// MaxKept bounds the bytes a Recycler keeps for reuse.
	MaxKept = 32 << 20
)

var _ memory.Allocator = (*Recycler)(nil)

// NewRecycler returns an empty Recycler.
func NewRecycler() *Recycler { return &Recycler{} }

// class returns the size class of a buffer of n bytes (its capacity is
// 1<<(class+minRecycleShift)) and whether it is one the Recycler keeps.
func class(n int) (int, bool) {
	if n > MaxRecycled {
		return 0, false
	}
	shift := max(bits.Len(uint(max(n, 1)-1)), minRecycleShift)
	return shift - minRecycleShift, true
}

// Allocate returns size zeroed bytes.
func (r *Recycler) Allocate(size int) []byte {
	c, ok := class(size)
	if !ok {
		return r.mem.Allocate(size)
	}
	r.mu.Lock()
	if n := len(r.free[c]); n > 0 {
		b := r.free[c][n-1]
		r.free[c][n-1] = nil
		r.free[c] = r.free[c][:n-1]
		r.kept -= cap(b)
		r.mu.Unlock()
		b = b[:size]
		clear(b)
		return b
	}
	r.mu.Unlock()
	return r.mem.Allocate(1 << (c + minRecycleShift))[:size]
}

// Reallocate resizes b to size bytes, in place when its capacity allows
// (the new bytes zeroed), else in a new buffer with b's bytes copied and b
// kept for reuse.
func (r *Recycler) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := r.Allocate(size)
	copy(nb, b)
	r.Free(b)
	return nb
}

// Free keeps b for reuse if it is one of the Recycler's sizes and there is
// room for it.
func (r *Recycler) Free(b []byte) {
	n := cap(b)
	c, ok := class(n)
	if !ok || n != 1<<(c+minRecycleShift) {
		return // not one of ours (or too large): the GC takes it
	}
	r.mu.Lock()
	if len(r.free[c]) < recycleDepth && r.kept+n <= MaxKept {
		r.free[c] = append(r.free[c], b[:0])
		r.kept += n
	}
	r.mu.Unlock()
}
