package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// memAt is what the process's memory was made of at one moment: the
// kernel's resident set split into anonymous and file-backed pages
// (/proc/self/status), and the Go runtime's view of the heap
// (runtime/metrics), all in bytes.
type memAt struct {
	rss, anon, file uint64
	// heap objects (live and not yet swept garbage), the live heap of the
	// last GC, the heap goal, goroutine stacks, free heap not yet returned
	// to the OS, all memory the runtime mapped
	objects, live, goal, stacks, free, total uint64
	// unused room in heap spans, the runtime's own memory (metadata, OS
	// stacks, other), and the heap profiler's buckets
	unused, runtime, profiling uint64
}

// memSamples names the runtime/metrics memAt reads, in its field order.
var memSamples = []string{"/memory/classes/heap/objects:bytes", "/gc/heap/live:bytes", "/gc/heap/goal:bytes",
	"/memory/classes/heap/stacks:bytes", "/memory/classes/heap/free:bytes", "/memory/classes/total:bytes",
	"/memory/classes/heap/unused:bytes",
	// the runtime's own memory, summed into memAt.runtime
	"/memory/classes/metadata/mcache/free:bytes", "/memory/classes/metadata/mcache/inuse:bytes",
	"/memory/classes/metadata/mspan/free:bytes", "/memory/classes/metadata/mspan/inuse:bytes",
	"/memory/classes/metadata/other:bytes", "/memory/classes/os-stacks:bytes", "/memory/classes/other:bytes",
	// the heap profiler's, memAt.profiling
	"/memory/classes/profiling/buckets:bytes"}

// String prints m in MB, the kernel's split first.
func (m memAt) String() string {
	return fmt.Sprintf("RSS %.1f MB = anonymous %.1f + file-backed %.1f; Go heap objects %.1f (live after the last GC %.1f, goal %.1f), unused in spans %.1f, stacks %.1f, free not returned %.1f, runtime metadata and other %.1f, heap profiler buckets %.1f, all the runtime mapped %.1f",
		mbOf(m.rss), mbOf(m.anon), mbOf(m.file), mbOf(m.objects), mbOf(m.live), mbOf(m.goal), mbOf(m.unused), mbOf(m.stacks), mbOf(m.free), mbOf(m.runtime), mbOf(m.profiling), mbOf(m.total))
}

// memWatch samples the process's memory every few milliseconds and keeps
// the sample of the largest resident set, the largest live heap and,
// when asked, a heap profile taken at that largest live heap (to find
// what the collector's peak holds: --heap-profile).
type memWatch struct {
	stop, done chan struct{}
	profile    bool
	peak       memAt // at the largest RSS
	maxLive    uint64
	prof       bytes.Buffer
}

// watchMem starts a memWatch; profile asks for the heap profile.
func watchMem(profile bool) *memWatch {
	w := &memWatch{stop: make(chan struct{}), done: make(chan struct{}), profile: profile}
	s := make([]metrics.Sample, len(memSamples))
	for i, n := range memSamples {
		s[i].Name = n
	}
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
			w.sample(s)
		}
	}()
	return w
}

// sample reads the memory once and keeps what is largest.
func (w *memWatch) sample(s []metrics.Sample) {
	m, err := procStatus()
	if err != nil {
		return
	}
	metrics.Read(s)
	m.objects, m.live, m.goal = s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
	m.stacks, m.free, m.total = s[3].Value.Uint64(), s[4].Value.Uint64(), s[5].Value.Uint64()
	m.unused = s[6].Value.Uint64()
	for _, v := range s[7 : len(s)-1] {
		m.runtime += v.Value.Uint64()
	}
	m.profiling = s[len(s)-1].Value.Uint64()
	if m.rss > w.peak.rss {
		w.peak = m
	}
	if m.live > w.maxLive {
		w.maxLive = m.live
		if w.profile {
			w.prof.Reset()
			_ = pprof.Lookup("heap").WriteTo(&w.prof, 0)
		}
	}
}

// end stops the watch and returns the sample at the largest RSS.
func (w *memWatch) end() memAt {
	close(w.stop)
	<-w.done
	return w.peak
}

// writeProfile writes the heap profile taken at the largest live heap.
func (w *memWatch) writeProfile(path string) error { return os.WriteFile(path, w.prof.Bytes(), 0o644) }

// procStatus reads VmRSS, RssAnon and RssFile from /proc/self/status.
func procStatus() (memAt, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return memAt{}, err
	}
	defer f.Close()
	var m memAt
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch k {
		case "VmRSS":
			dst = &m.rss
		case "RssAnon":
			dst = &m.anon
		case "RssFile":
			dst = &m.file
		default:
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return memAt{}, fmt.Errorf("cannot parse /proc/self/status %s: %w", k, err)
		}
		*dst = kb << 10
	}
	return m, sc.Err()
}
