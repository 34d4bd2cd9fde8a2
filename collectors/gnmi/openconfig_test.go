package gnmi

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestClassifyVocabulary checks that the collector fixes the kind of every
// fixed leaf of the metric vocabulary (and the ieeefloat32 ones as such),
// and classifies the others as before: counters by convention, the rest by
// their first value.
func TestClassifyVocabulary(t *testing.T) {
	fixed := 0
	for _, m := range schemas.Metrics() {
		li := classify(m.Name)
		switch {
		case m.Origin == schemas.OriginSNMP || m.Origin == schemas.OriginDerived:
			continue
		case m.Fixed:
			fixed++
			if li.kind != m.Kind || li.float32 != m.Float32 {
				t.Errorf("%s: classified %+v, want kind %v float32 %v", m.Name, li, m.Kind, m.Float32)
			}
		case li.kind != 0:
			t.Errorf("%s: not fixed, but classified as %v", m.Name, li.kind)
		}
	}
	if fixed != 46 {
		t.Errorf("%d fixed leaves, want the 46 the collector has always fixed", fixed)
	}
	f := func(metric string, want schemas.Kind) {
		t.Helper()
		if got := classify(metric).kind; got != want {
			t.Errorf("classify(%q) = %v, want %v", metric, got, want)
		}
	}
	f("/interfaces/interface/state/counters/in-unknown", schemas.KindCounter)
	f("/qos/queues/queue/state/dropped-packets", schemas.KindCounter)
	f("/components/component/state/description", 0)
	f(schemas.MetricPSUInPower, 0) // derived by the collector itself (derivePSU)
}
