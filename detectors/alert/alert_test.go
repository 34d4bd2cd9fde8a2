package alert

import (
	"math"
	"testing"
	"unsafe"
)

func TestHysteresis(t *testing.T) {
	cfg := Config{FireZ: 6, ResolveZ: 3, Confirm: 2, Clear: 2}
	zs := []float64{1, 7, 1, 7, 8, 5, 9, 2, 4, 2, 2, 7, 7}
	want := []Transition{None, None, None, None, Fired, None, None, None, None, None, Resolved, None, Fired}
	var s State
	for i, z := range zs {
		if got := s.Update(&cfg, int64(i), z); got != want[i] {
			t.Fatalf("point %d (z=%v): got %v, want %v", i, z, got, want[i])
		}
	}
	if !s.Firing || s.StartsAt != 12 {
		t.Fatalf("state %+v", s)
	}
}

func TestScoreAndSeverity(t *testing.T) {
	cfg := Config{}.WithDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	f := func(z, score float64, sev string) {
		t.Helper()
		if got := Score(&cfg, z); got < score-1e-9 || got > score+1e-9 {
			t.Errorf("Score(%v) = %v, want %v", z, got, score)
		}
		if got := Severity(&cfg, z); got != sev {
			t.Errorf("Severity(%v) = %v, want %v", z, got, sev)
		}
	}
	f(0, 0, "info")
	f(6, 0.5, "warning")
	f(-12, 0.75, "critical")
}

func TestSettleKeepsTheIncident(t *testing.T) {
	var s State
	for i, hot := range []bool{true, false, true, true} {
		if s.Count(hot) >= 2 {
			s.Fire(int64(i), 5)
		}
	}
	if !s.Firing || s.StartsAt != 3 || s.Above != 0 || s.Peak != 5 {
		t.Fatalf("after firing: %+v", s)
	}
	for i, x := range []float64{7, 1, 9, 1, 1} {
		if done := s.Settle(x, x < 2, 2); done != (i == 4) {
			t.Fatalf("point %d: resolved %v", i, done)
		}
	}
	if s.Firing || s.StartsAt != 3 || s.Peak != 9 || s.Below != 0 {
		t.Fatalf("after resolving: %+v (start and peak are kept for the resolved event)", s)
	}
}

func TestGrade(t *testing.T) {
	f := func(x, warn, crit float64, want string) {
		t.Helper()
		if got := Grade(x, warn, crit); got != want {
			t.Errorf("Grade(%v, %v, %v) = %q, want %q", x, warn, crit, got, want)
		}
	}
	f(0.5, 0.525, 0.6, "info")
	f(0.525, 0.525, 0.6, "warning")
	f(0.6, 0.525, 0.6, "critical")
	f(math.NaN(), 0, 1, "info")
	f(0, 0, 1, "warning")
}

// TestStateSize holds the README's 32 B per alert.
func TestStateSize(t *testing.T) {
	if n := unsafe.Sizeof(State{}); n != 32 {
		t.Fatalf("State is %d B, the README says 32", n)
	}
}
