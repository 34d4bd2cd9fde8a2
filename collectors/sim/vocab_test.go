package sim

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestSeriesInVocabulary checks that every series the simulator serves,
// with power mode, transceivers and a topology, is a name of the metric
// vocabulary with the vocabulary's kind, and that its samples carry it.
func TestSeriesInVocabulary(t *testing.T) {
	cfg := Config{Devices: 4, Interfaces: 4, Start: t0, Power: true, Transceivers: true, Topology: Topology{Spines: 2}}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for d := 0; d < cfg.Devices; d++ {
		for _, s := range f.DeviceSeries(d) {
			m, ok := schemas.LookupMetric(s.Metric)
			switch {
			case !ok:
				t.Errorf("%s: not in the metric vocabulary", s.Metric)
			case m.Kind != s.Kind:
				t.Errorf("%s: served as a %v, the vocabulary says %v", s.Metric, s.Kind, m.Kind)
			}
			seen[s.Metric] = true
		}
	}
	if len(seen) < 20 {
		t.Fatalf("only %d metrics served", len(seen))
	}
	n := 0
	f.Next(func(s *schemas.Sample) {
		n++
		if m, ok := schemas.LookupMetric(s.Metric); !ok || m.Kind != s.Kind {
			t.Fatalf("sample %s kind %v: vocabulary %v (%v)", s.Metric, s.Kind, m.Kind, ok)
		}
	})
	if n == 0 {
		t.Fatal("no samples")
	}
}
