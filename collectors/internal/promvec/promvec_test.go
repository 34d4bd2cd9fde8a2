package promvec

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	cv := Counters(reg, "test")
	v := cv("things_total", "Things.", "target")
	v.WithLabelValues("a").Add(3)
	if n, err := testutil.GatherAndCount(reg, "telekernel_test_things_total"); err != nil || n != 1 {
		t.Fatalf("gathered %d series of telekernel_test_things_total (%v); want 1", n, err)
	}
	if got := testutil.ToFloat64(v.WithLabelValues("a")); got != 3 {
		t.Fatalf("counter = %v; want 3", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a name twice did not panic")
		}
	}()
	cv("things_total", "Things again.", "target")
}
