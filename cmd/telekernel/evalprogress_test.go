package main

import (
	"regexp"
	"testing"
)

// TestEvalProgressNamesDetectionEvents runs eval on a wide CSV and checks
// that the progress on stderr calls its count detection events (firing
// and resolved) and that its last line's firing count is the table's
// "firing detections". Before, stderr said "N detections" of the firing
// and resolved events while the table said "firing detections" of the
// firing ones alone, about half as many (bigdama18: 19 370 against 9 727).
func TestEvalProgressNamesDetectionEvents(t *testing.T) {
	data := stepCSV(t)
	labels := writeFile(t, "labels.csv", "device,interface,start,end,kind\nr1,Eth1,1500005000,1500005100,step\n")
	code, out, errs := tk(t, "eval", "--format", "wide-csv", "--data", data, "--labels", labels)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	m := regexp.MustCompile(`(?m)^default: backtest: 1200 points, (\d+) detection events \((\d+) firing\), `).FindStringSubmatch(errs)
	if m == nil {
		t.Fatalf("stderr %q: want a last progress line with detection events and the firing ones", errs)
	}
	table := regexp.MustCompile(`firing detections\|\s+(\d+)\|`).FindStringSubmatch(out)
	if table == nil || table[1] != m[2] {
		t.Errorf("progress %q: %s detection events, %s firing; the table's firing detections %v:\n%s", m[0], m[1], m[2], table, out)
	}
}
