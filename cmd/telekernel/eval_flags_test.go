package main

import (
	"strings"
	"testing"
)

// TestEvalSimFlagsRefusedOnData: --span, --devices and --sim set the
// simulated fleet of --format sim, so eval on recorded data refuses them
// in one line, as --format sim refuses --data. Before, `eval --format
// parquet --data DIR --span 1h` replayed the whole data and ignored --span
// without a word.
func TestEvalSimFlagsRefusedOnData(t *testing.T) {
	dir := t.TempDir()
	for _, extra := range [][]string{{"--span", "1h"}, {"--devices", "3"}, {"--sim", "x.yaml"}} {
		args := append([]string{"eval", "--format", "parquet", "--data", dir}, extra...)
		code, _, stderr := tk(t, args...)
		want := "telekernel: eval: --format parquet takes no --sim, --span or --devices (they set the fleet of --format sim)\n"
		if code != 1 || stderr != want {
			t.Errorf("%q: exit %d, stderr %q; want 1, %q", strings.Join(args, " "), code, stderr, want)
		}
	}
}
