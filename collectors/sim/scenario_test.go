package sim

import (
	"os"
	"slices"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestScenarioExample checks deploy/examples/sim-faults.yaml, the backtest
// scenario: every fault kind, over several simulated days, each with
// label rows.
func TestScenarioExample(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/examples/sim-faults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sim struct {
			Config `yaml:",inline"`
			Span   time.Duration `yaml:"span"`
		} `yaml:"sim"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	cfg := doc.Sim.Config
	cfg.Start, cfg.Power, cfg.Transceivers = t0, true, true // the defaults of `telekernel run`
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Sim.Span < 48*time.Hour {
		t.Errorf("span %v: want several days", doc.Sim.Span)
	}
	kinds := map[string]bool{}
	for _, l := range f.Labels() {
		kinds[l.Kind] = true
		if l.End.After(t0.Add(doc.Sim.Span)) {
			t.Errorf("label %+v ends after the span", l)
		}
	}
	for _, k := range FaultKinds {
		if !kinds[k] || !slices.ContainsFunc(cfg.Faults, func(f Fault) bool { return f.Kind == k }) {
			t.Errorf("the scenario has no %s fault", k)
		}
	}
}
