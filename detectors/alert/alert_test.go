package alert

import "testing"

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
