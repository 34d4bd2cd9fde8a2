package main

import (
	"fmt"
	"math"
	"os"
	"testing"
)

// TestMaintenanceFigures runs the benchmark's maintenance fleet as the
// README reports it (200 device-days, 28 degradations) and holds the
// figures to the README's (maintMisses), counting every open case on no degradation as
// false and a degradation as predicted only when its first case came
// ≥ 24 h ahead with a time to failure within ×2 of the truth.
func TestMaintenanceFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("the 200 device-day fleet takes ~15 s")
	}
	stdout := os.Stdout
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = devnull
	sc, err := runMaintenance(defaultFlags())
	os.Stdout = stdout
	_ = devnull.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("predicted %d/%d (%d ≥ 24 h ahead), median lead %.1f h, %d false (%.2f per 100 device-days), static threshold lead %.1f h",
		sc.hits, sc.degradations, sc.early, sc.medianLead, sc.falses, sc.perHundred(), sc.staticLead)
	for _, m := range maintMisses(sc) {
		t.Error(m)
	}
}

// The README's maintenance figures ("Power and predictive maintenance",
// measured 2026-12-02 and unchanged since): of 28 degradations, 28
// predicted at least 24 h ahead with a time to failure within ×2, median
// lead 49.2 h, 0 false predictions in 200 device-days. The run is
// seeded, so the counts are held exactly and the lead to within an hour
// under the README's (its hourly medians step by the hour).
const (
	readmeDegradations = 28
	readmeHits         = 28
	readmeFalses       = 0
	readmeMedianLead   = 49.2 // hours
	// readmePowerMAPE is detectors/power/README.md's MAPE of the power
	// model on this fleet (%), printed to two decimals.
	readmePowerMAPE = 1.09
)

// maintMisses returns how sc breaks the README's figures (above) or
// issue 12's goals (≥ 90 % predicted, a median lead ≥ 24 h, ≤ 1 false
// prediction per 100 device-days), which they meet.
func maintMisses(sc maintScore) []string {
	var out []string
	if sc.degradations != readmeDegradations {
		return []string{fmt.Sprintf("%d degradations, want %d", sc.degradations, readmeDegradations)}
	}
	if share := float64(sc.hits) / float64(sc.degradations); sc.hits < readmeHits || share < 0.9 {
		out = append(out, fmt.Sprintf("predicted %d/%d (%.0f %%), README %d/%d, goal ≥ 90 %%", sc.hits, sc.degradations, 100*share, readmeHits, readmeDegradations))
	}
	if sc.medianLead < readmeMedianLead-1 || sc.medianLead < 24 {
		out = append(out, fmt.Sprintf("median lead %.1f h, README %.1f h, goal ≥ 24 h", sc.medianLead, readmeMedianLead))
	}
	if sc.falses > readmeFalses || sc.perHundred() > 1 {
		out = append(out, fmt.Sprintf("%d false predictions = %.2f per 100 device-days, README %d, goal ≤ 1", sc.falses, sc.perHundred(), readmeFalses))
	}
	if math.Abs(sc.powerMAPE-readmePowerMAPE) > 0.005 {
		out = append(out, fmt.Sprintf("power model MAPE %.2f %%, detectors/power/README.md %.2f %%", sc.powerMAPE, readmePowerMAPE))
	}
	// The baseline is measured, not assumed: a static threshold alarm
	// on the same medians leads by about nothing.
	if sc.staticLead > 2 {
		out = append(out, fmt.Sprintf("static threshold lead %.1f h: the baseline is no longer the threshold crossing", sc.staticLead))
	}
	return out
}
