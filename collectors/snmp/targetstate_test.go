package snmp

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// TestReach: a target's UP goes out with its first answered poll, its
// DOWN after DownAfter failed polls in a row (once, not per failure), its
// UP again with the next answer; a target that never answered is DOWN
// after DownAfter failed polls too (another process may have had it UP).
// Steps: "a" an answered poll, "f" a failed one; want is what
// each step publishes ("" none, "UP", "DOWN").
func TestReach(t *testing.T) {
	f := func(steps string, want ...string) {
		t.Helper()
		var r reach
		b := publish.NewBatch(memory.DefaultAllocator, "d", schemas.SourceSNMP)
		defer b.Release()
		var got []string
		for _, s := range steps {
			out := ""
			switch s {
			case 'a':
				if r.answered(b) == 2 {
					out = r.state
				}
			case 'f':
				if r.failed() {
					out = r.state
				}
			}
			got = append(got, out)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: published %q, want %q", steps, got, want)
		}
	}
	f("aaa", "UP", "", "")
	f("affa", "UP", "", "", "")
	f("afffff", "UP", "", "", "DOWN", "", "")
	f("afffaa", "UP", "", "", "DOWN", "UP", "")
	f("ffffff", "", "", "DOWN", "", "", "")
	f("ffa", "", "", "UP")
	f("fffa", "", "", "DOWN", "UP")
}
