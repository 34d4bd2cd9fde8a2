package intmath

import "testing"

func TestFloorDiv(t *testing.T) {
	f := func(a, b, want int64) {
		t.Helper()
		if got := FloorDiv(a, b); got != want {
			t.Errorf("FloorDiv(%d, %d) = %d, want %d", a, b, got, want)
		}
	}
	f(0, 1000, 0)
	f(999, 1000, 0)
	f(1000, 1000, 1)
	f(-1, 1000, -1)
	f(-1000, 1000, -1)
	f(-1001, 1000, -2)
}
