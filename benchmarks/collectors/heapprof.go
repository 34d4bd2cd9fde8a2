package main

import (
	"bytes"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// heapWatch samples the live Go heap every few milliseconds and keeps a
// heap profile taken at the largest live heap seen, to find what the
// collector's peak memory holds (--heap-profile).
type heapWatch struct {
	stop chan struct{}
	done chan struct{}
	max  uint64
	// peaks of the runtime's memory classes seen over the run
	objects, unused, free, stacks, other uint64
	prof                                 bytes.Buffer
}

// watchHeap starts a heapWatch; its stop writes the profile to path.
func watchHeap() *heapWatch {
	w := &heapWatch{stop: make(chan struct{}), done: make(chan struct{})}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"}, {Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"}, {Name: "/memory/classes/total:bytes"}}
	go func() {
		defer close(w.done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
			metrics.Read(s)
			w.objects = max(w.objects, s[1].Value.Uint64())
			w.unused = max(w.unused, s[2].Value.Uint64())
			w.free = max(w.free, s[3].Value.Uint64())
			w.stacks = max(w.stacks, s[4].Value.Uint64())
			w.other = max(w.other, s[5].Value.Uint64())
			if v := s[0].Value.Uint64(); v > w.max {
				w.max = v
				w.prof.Reset()
				_ = pprof.Lookup("heap").WriteTo(&w.prof, 0)
			}
		}
	}()
	return w
}

// end stops the watch and writes the profile at the peak to path.
func (w *heapWatch) end(path string) (uint64, error) {
	close(w.stop)
	<-w.done
	return w.max, os.WriteFile(path, w.prof.Bytes(), 0o644)
}
