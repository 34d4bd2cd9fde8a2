package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestNegativeFor: `--for D` stops the run cleanly after D; a negative D
// is refused with one line naming --for (exit 1), as --devices and --speed
// refuse values that are not positive (TestDevicesFlag). Before, it was
// accepted and ignored (app.Run applies For only when > 0), so `run --for
// -1s` ran until a signal: a script that computes a duration got a
// process that never ended. The run here is the lightest there is (no
// simulator, one stage on the embedded broker); the test gives it 4 s.
func TestNegativeFor(t *testing.T) {
	data := t.TempDir()
	cfg := writeFile(t, "light.yaml", "sim: {enabled: false}\nstages: [alertstate]\ninventory: {enabled: false}\ncorrelate: {enabled: false}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	start := time.Now()
	code := execute(ctx, []string{"run", "-c", cfg, "--for", "-1s", "--data", data, "--http", "off", "--no-tui"}, &out, &errb)
	took := time.Since(start)
	t.Logf("exit %d after %v; stdout %q", code, took.Round(time.Millisecond), out.String())
	if ctx.Err() != nil {
		t.Errorf("run --for -1s was still running %v later (stopped only by the test's own deadline, as a signal would): --for -1s was ignored; want a one-line error (exit 1) or an immediate stop", took.Round(time.Millisecond))
	}
	if code != 1 || !strings.Contains(errb.String(), "--for") {
		t.Errorf("run --for -1s: exit %d, stderr last line %q; want exit 1 with an error naming --for", code, lastLine(errb.String()))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
