package config

import (
	"math"
	"testing"
)

// TestSimSpeedMax: sim.speed takes max as the --speed flag does, as well
// as .inf and a number. Before, a file with speed: max was refused with
// "not a number" while the flag took it.
func TestSimSpeedMax(t *testing.T) {
	for text, want := range map[string]float64{"max": math.Inf(1), ".inf": math.Inf(1), "60": 60, "0.5": 0.5} {
		c, err := Parse("f.yaml", []byte("sim: {speed: "+text+"}\n"))
		if err != nil {
			t.Fatalf("speed: %s: %v", text, err)
		}
		if got := float64(c.Sim.Speed); got != want {
			t.Errorf("speed: %s = %v, want %v", text, got, want)
		}
	}
	if _, err := Parse("f.yaml", []byte("sim: {speed: -1}\n")); err == nil || err.Error() != "f.yaml:1: sim.speed: -1 must be positive (or .inf or max)" {
		t.Errorf("speed: -1: %v", err)
	}
}
