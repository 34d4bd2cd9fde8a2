package main

import "testing"

// readmeMaint is a score with the README's figures ("Power and predictive
// maintenance": 200 device-days, 28 degradations, 28/28 predicted at least
// 24 h ahead within ×2, median lead 49.2 h, 0 false predictions, a static
// threshold alarm leading by 0.0 h; the power model's MAPE from
// detectors/power/README.md), with change applied.
func readmeMaint(change func(sc *maintScore)) maintScore {
	sc := maintScore{degradations: 28, hits: 28, early: 28, deviceDays: 200, medianLead: 49.2, powerMAPE: readmePowerMAPE}
	if change != nil {
		change(&sc)
	}
	return sc
}

// TestMaintenanceHoldsReadme: the check of TestMaintenanceFigures accepts
// the README's figures and refuses a score that breaks them: 27/28
// predicted, one false prediction where the README says 0, a median lead
// under the README's 49.2 h by more than an hour. Before, it held only
// issue 12's goals (≥ 90 %, ≥ 24 h, ≤ 1 per 100 device-days), so 26/28,
// 2 false predictions and a 25 h median lead all passed under the
// README's "28/28 … median lead 49.2 h, 0 false predictions".
func TestMaintenanceHoldsReadme(t *testing.T) {
	if m := maintMisses(readmeMaint(nil)); len(m) > 0 {
		t.Fatalf("the README's own figures are refused: %v", m)
	}
	for _, c := range []struct {
		name   string
		change func(sc *maintScore)
	}{
		{"27/28 predicted", func(sc *maintScore) { sc.hits = 27 }},
		{"26/28 predicted", func(sc *maintScore) { sc.hits = 26 }},
		{"one false prediction", func(sc *maintScore) { sc.falses = 1 }},
		{"two false predictions", func(sc *maintScore) { sc.falses = 2 }},
		{"median lead 25 h", func(sc *maintScore) { sc.medianLead = 25 }},
		{"power model MAPE 1.20 %", func(sc *maintScore) { sc.powerMAPE = 1.2 }},
	} {
		if m := maintMisses(readmeMaint(c.change)); len(m) == 0 {
			t.Errorf("%s: passes the check", c.name)
		}
	}
}
