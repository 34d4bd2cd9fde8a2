package main

import "testing"

func TestQuantiles(t *testing.T) {
	f := func(ms []float64, want [4]float64) {
		t.Helper()
		if got := (&latencies{ms: ms}).quantiles(); got != want {
			t.Errorf("quantiles(%v) = %v, want %v", ms, got, want)
		}
	}
	f([]float64{5}, [4]float64{5, 5, 5, 5})
	f([]float64{3, 1, 2}, [4]float64{2, 3, 3, 3})
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100 … 1
	}
	f(hundred, [4]float64{50, 99, 100, 100})
}
