package cfgcheck

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	i, f, s := 0, 2.5, ""
	Default(&i, 7)
	Default(&f, 9.0)
	Default(&s, "x")
	if i != 7 || f != 2.5 || s != "x" {
		t.Fatalf("got %d %v %q, want 7 2.5 \"x\"", i, f, s)
	}
}

func TestChecks(t *testing.T) {
	f := func(err error, want string) {
		t.Helper()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	f(Positive("h", 0.0), "h: 0 must be positive")
	f(Positive("n", -3), "n: -3 must be positive")
	f(Positive("h", 0.5), "")
	f(NonNegative("k", -0.5), "k: -0.5 must not be negative")
	f(NonNegative("k", 0), "")
	f(AtLeast("min_points", 1, 2), "min_points: 1 must be at least 2")
	f(AtLeast("min_points", 2, 2), "")
	f(Fraction("alpha", 1), "alpha: 1 must be in (0, 1)")
	f(Fraction("alpha", math.NaN()), "alpha: NaN must be in (0, 1)")
	f(Fraction("alpha", 0.1), "")
	first := errors.New("first")
	f(First(nil, first, errors.New("second")), "first")
	f(First(nil, nil), "")
}

func TestBetweenAndCheck(t *testing.T) {
	if err := Between("bins", 0, 1, 64); err == nil || err.Error() != "bins: 0 must be between 1 and 64" {
		t.Errorf("Between(0, 1, 64) = %v", err)
	}
	if err := Between("bins", 64, 1, 64); err != nil {
		t.Errorf("Between(64, 1, 64) = %v, want nil", err)
	}
	if err := Check(true, "a and b must not be negative"); err == nil || err.Error() != "a and b must not be negative" {
		t.Errorf("Check(true) = %v", err)
	}
	if err := Check(false, "x: %d", 1); err != nil {
		t.Errorf("Check(false) = %v, want nil", err)
	}
}

func TestDuration(t *testing.T) {
	if err := Positive("window", time.Duration(0)); err == nil || err.Error() != "window: 0s must be positive" {
		t.Errorf("Positive(0s) = %v", err)
	}
}

func TestNamed(t *testing.T) {
	required := errors.New("name: required")
	check := func(s string) error {
		if s == "" {
			return required
		}
		return nil
	}
	name := func(s string) string { return s }
	f := func(items []string, want string) {
		t.Helper()
		err := Named("targets", items, name, check)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Named(%q) = %q, want %q", items, got, want)
		}
		if want == "targets[1].name: required" && !errors.Is(err, required) {
			t.Errorf("Named(%q) = %v, does not wrap the item's error", items, err)
		}
	}
	f(nil, "")
	f([]string{"a", "b"}, "")
	f([]string{"a", "", "a"}, "targets[1].name: required")
	f([]string{"a", "b", "a", ""}, `targets[2].name: "a" is used twice`)
}

// TestSection: a section's error is reported under its field and still
// wraps the original; no error gives none.
func TestSection(t *testing.T) {
	base := errors.New("sigmas: -1 must be positive")
	err := Section("peer", base)
	if err == nil || err.Error() != "peer.sigmas: -1 must be positive" || !errors.Is(err, base) {
		t.Errorf("Section: %v", err)
	}
	if err := Section("peer", nil); err != nil {
		t.Errorf("Section of nil: %v", err)
	}
}
