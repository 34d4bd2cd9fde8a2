package benchkit

import (
	"testing"
	"time"
)

// TestCPU: the CPU time grows while this process computes.
func TestCPU(t *testing.T) {
	c0 := CPU()
	x := 0
	for t0 := time.Now(); time.Since(t0) < 50*time.Millisecond; x++ {
	}
	if d := CPU() - c0; d <= 0 || x == 0 {
		t.Fatalf("CPU time grew by %v over 50 ms of work", d)
	}
}

// TestEnvOr: a set variable wins, an empty or unset one gives the default.
func TestEnvOr(t *testing.T) {
	t.Setenv("TK_BENCHKIT_TEST", "a:1")
	if got := EnvOr("TK_BENCHKIT_TEST", "d"); got != "a:1" {
		t.Errorf("set: %q", got)
	}
	t.Setenv("TK_BENCHKIT_TEST", "")
	if got := EnvOr("TK_BENCHKIT_TEST", "d"); got != "d" {
		t.Errorf("empty: %q", got)
	}
	if got := EnvOr("TK_BENCHKIT_UNSET_VARIABLE", "d"); got != "d" {
		t.Errorf("unset: %q", got)
	}
}
