package schemas

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/internal/arrowpool"
)

// strictAllocator wraps an allocator and checks every buffer's life: a
// Free or Reallocate must name a buffer it handed out and that is still
// live, with the length it was handed out with. A second Free of a buffer
// (a double free, which a recycling allocator would turn into one buffer
// handed to two owners) and a Free of a buffer it never handed out are
// reported and not passed on. It is safe for concurrent use.
type strictAllocator struct {
	mem memory.Allocator

	mu       sync.Mutex
	live     map[unsafe.Pointer]int // first byte -> length handed out
	freed    map[unsafe.Pointer]bool
	problems []string
	allocs   int
}

func newStrictAllocator(mem memory.Allocator) *strictAllocator {
	return &strictAllocator{mem: mem, live: map[unsafe.Pointer]int{}, freed: map[unsafe.Pointer]bool{}}
}

func bufKey(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

func (a *strictAllocator) Allocate(size int) []byte {
	b := a.mem.Allocate(size)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.handOut(b, "Allocate")
	return b
}

func (a *strictAllocator) Reallocate(size int, b []byte) []byte {
	a.mu.Lock()
	ok := a.takeBack(b, "Reallocate")
	a.mu.Unlock()
	if !ok {
		// Not ours to resize: give the caller a fresh buffer so the test
		// goes on, and leave the one named alone.
		return a.Allocate(size)
	}
	nb := a.mem.Reallocate(size, b)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.handOut(nb, "Reallocate")
	return nb
}

func (a *strictAllocator) Free(b []byte) {
	a.mu.Lock()
	ok := a.takeBack(b, "Free")
	a.mu.Unlock()
	if ok {
		a.mem.Free(b)
	}
}

// handOut records b as live. The caller holds mu.
func (a *strictAllocator) handOut(b []byte, op string) {
	if cap(b) == 0 {
		return
	}
	k := bufKey(b)
	if n, ok := a.live[k]; ok {
		a.problems = append(a.problems, fmt.Sprintf("%s handed out %p (%d bytes), which is still live (%d bytes)", op, k, len(b), n))
	}
	a.live[k] = len(b)
	delete(a.freed, k)
	a.allocs++
}

// takeBack checks that b is live and no longer records it, reporting
// whether it was. The caller holds mu.
func (a *strictAllocator) takeBack(b []byte, op string) bool {
	if cap(b) == 0 {
		return true
	}
	k := bufKey(b)
	n, ok := a.live[k]
	switch {
	case !ok && a.freed[k]:
		a.problems = append(a.problems, fmt.Sprintf("%s of %p (%d bytes): double free", op, k, len(b)))
		return false
	case !ok:
		a.problems = append(a.problems, fmt.Sprintf("%s of %p (%d bytes): not a buffer of this allocator", op, k, len(b)))
		return false
	case n != len(b):
		a.problems = append(a.problems, fmt.Sprintf("%s of %p with %d bytes; it was handed out with %d", op, k, len(b), n))
	}
	delete(a.live, k)
	a.freed[k] = true
	return true
}

// check returns what went wrong so far, leaks included, and starts afresh.
func (a *strictAllocator) check() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.problems
	for k, n := range a.live {
		out = append(out, fmt.Sprintf("leaked %p (%d bytes)", k, n))
	}
	a.problems, a.live, a.freed = nil, map[unsafe.Pointer]int{}, map[unsafe.Pointer]bool{}
	return out
}

// TestStrictAllocatorReports checks the checker: each misuse it exists to
// find is reported.
func TestStrictAllocatorReports(t *testing.T) {
	a := newStrictAllocator(memory.NewGoAllocator())
	b := a.Allocate(100)
	a.Free(b)
	a.Free(b)
	a.Free(make([]byte, 8))
	c := a.Allocate(64)
	a.Free(c[:10])
	a.Allocate(1)
	got := a.check()
	for i, want := range []string{"double free", "not a buffer of this allocator", "handed out with 64", "leaked"} {
		if i >= len(got) || !bytes.Contains([]byte(got[i]), []byte(want)) {
			t.Errorf("problem %d = %q, want one mentioning %q (all: %q)", i, got, want, got)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d problems, want 4: %q", len(got), got)
	}
}

// decodeInputs returns the samples decoder's test inputs by name: the fuzz
// corpus files, the fuzzer's seed values, and each seed (but the largest)
// with every byte flipped in three ways.
func decodeInputs(t *testing.T) map[string][]byte {
	in := map[string][]byte{}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeSamples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if in["corpus/"+e.Name()], err = parseCorpusBytes(raw); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
	}
	seeds := map[string][]byte{"seed/lz4": compressedValue(t, fuzzSampleShapes()["all kinds"])}
	for name, rows := range fuzzSampleShapes() {
		seeds["seed/"+name] = encodeRows(t, rows)
	}
	for name, v := range seeds {
		in[name] = v
		if name == "seed/many" {
			continue
		}
		for i := range v {
			for _, x := range []byte{0xff, 0x80, 0x01} {
				bad := bytes.Clone(v)
				bad[i] ^= x
				in[fmt.Sprintf("%s/byte-%d^%#x", name, i, x)] = bad
			}
		}
	}
	return in
}

// TestDecodeSamplesBufferLifetimes decodes the fuzz corpus, the seeds and
// their corruptions through a strictAllocator over Go's allocator and over
// the recycling one (internal/arrowpool, the detect stage's): after every
// decode, and the Release of what it returned, each buffer must have been
// freed exactly once, a failed decode included (it frees what the IPC
// reader dropped). The budget of problems reported keeps a systematic
// defect's output readable.
func TestDecodeSamplesBufferLifetimes(t *testing.T) {
	inputs := decodeInputs(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range inputs {
			if !yield(k) {
				return
			}
		}
	})
	for _, under := range []struct {
		name string
		mem  memory.Allocator
	}{{"go", memory.NewGoAllocator()}, {"arrowpool", arrowpool.New()}} {
		t.Run(under.name, func(t *testing.T) {
			a := newStrictAllocator(under.mem)
			var decoded, failed, reported int
			for _, name := range names {
				rec, err := DecodeSamplesValue(a, inputs[name])
				if err == nil {
					if _, err := Samples(rec); err != nil {
						t.Errorf("%s: decoded record is not readable: %v", name, err)
					}
					rec.Release()
					decoded++
				} else {
					failed++
				}
				for _, p := range a.check() {
					if reported++; reported <= 20 {
						t.Errorf("%s (decode error: %v): %s", name, err, p)
					}
				}
			}
			if a.allocs == 0 || decoded < 5 || failed < 100 {
				t.Errorf("%d buffers handed out, %d values decoded, %d rejected: the inputs do not exercise the decoder", a.allocs, decoded, failed)
			}
			t.Logf("%d values: %d decoded, %d rejected, %d buffers handed out; %d problems", len(names), decoded, failed, a.allocs, reported)
		})
	}
}
