package stagetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
)

// Restoring runs recs through stages newStage makes as a runner with a
// compacted changelog would: each stage checkpoints after every record
// into one changelog, and after record restoreAt (-1: none) a new stage
// restored from it carries on; at the end the changelog is restored once
// more. emit gets each output with the index of its input record; an
// error it returns is a failure. Restoring returns what went wrong, one
// line each: a failure of emit, a Process error or panic (the run stops
// there), a changelog record a restore refused.
func Restoring(newStage func() pipeline.Processor, recs []*kgo.Record, restoreAt int, emit func(i int, o *kgo.Record) error) []string {
	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }
	changelog := map[string][]byte{}
	restore := func(at int) pipeline.Processor {
		p := newStage()
		for _, k := range slices.Sorted(maps.Keys(changelog)) {
			if err := p.Restore(0, []byte(k), changelog[k]); err != nil {
				fail("restore after record %d: %q: %v", at, k, err)
			}
		}
		return p
	}
	p := newStage()
	for i, r := range recs {
		err := func() (err error) {
			defer func() {
				if v := recover(); v != nil {
					err = fmt.Errorf("panic: %v", v)
				}
			}()
			return p.Process(context.Background(), r, func(o *kgo.Record) {
				if err := emit(i, o); err != nil {
					fail("record %d: %v", i, err)
				}
			})
		}()
		if err != nil {
			fail("record %d: %v", i, err)
			return failures
		}
		p.Checkpoint(func(_ int32, k, v []byte) {
			if v == nil {
				delete(changelog, string(k))
			} else {
				changelog[string(k)] = v
			}
		})
		if i == restoreAt {
			p = restore(i)
		}
	}
	restore(len(recs))
	return failures
}

// Warnings returns the WARN lines of a text log (slog's TextHandler).
func Warnings(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=WARN") {
			out = append(out, l)
		}
	}
	return out
}
