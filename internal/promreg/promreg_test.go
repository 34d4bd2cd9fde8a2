package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRegisterReusesTheFirst(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "telekernel_test_things_total", Help: "Things."}
	first := Register(reg, prometheus.NewCounter(opts))
	second := Register(reg, prometheus.NewCounter(opts))
	if first != second {
		t.Fatal("second registration returned a new collector, want the first")
	}
	second.Inc()
	if got := testutil.ToFloat64(first); got != 1 {
		t.Fatalf("first counter = %v after incrementing the second, want 1", got)
	}
	vopts := prometheus.CounterOpts{Name: "telekernel_test_by_total", Help: "By."}
	v1 := Register(reg, prometheus.NewCounterVec(vopts, []string{"reason"}))
	v2 := Register(reg, prometheus.NewCounterVec(vopts, []string{"reason"}))
	if v1 != v2 {
		t.Fatal("second registration of a vector returned a new one, want the first")
	}
}

func TestRegisterKeepsAnInconsistentOne(t *testing.T) {
	reg := prometheus.NewRegistry()
	Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: "telekernel_test_x_total", Help: "X."}))
	other := prometheus.NewGauge(prometheus.GaugeOpts{Name: "telekernel_test_x_total", Help: "Another help."})
	if got := Register(reg, other); got != other {
		t.Fatal("an inconsistent registration did not return the collector passed in")
	}
}

func TestRegisterWithNoRegistry(t *testing.T) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "telekernel_test_nil_total", Help: "Nil."})
	if got := Register(nil, c); got != c {
		t.Fatal("Register(nil, c) did not return c")
	}
}
