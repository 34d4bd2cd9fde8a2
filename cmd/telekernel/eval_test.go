package main

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
)

// stepCSV is a wide CSV of device r1: a gauge around 100 at 10 s steps that
// jumps 50-fold at row 500 (t = 1500005000), and a counter.
func stepCSV(t *testing.T) string {
	var b strings.Builder
	b.WriteString(",time,Eth1output-load,Eth1bytes-sent\n")
	for i := range 600 {
		v := 100 + 3*math.Sin(float64(i)*0.7)
		if i >= 500 {
			v *= 50
		}
		fmt.Fprintf(&b, "%d,%d,%.3f,%d\n", i, 1500000000+10*i, v, 1000*i)
	}
	return writeFile(t, "r1lab.csv", b.String())
}

// TestEvalSideBySide runs eval on a wide CSV with two configurations: the
// default detects the labelled step, one with an unreachable fire_z does
// not; both appear side by side, and --json carries the same figures.
func TestEvalSideBySide(t *testing.T) {
	data := stepCSV(t)
	labels := writeFile(t, "labels.csv", "device,interface,start,end,kind\nr1,Eth1,1500005000,1500005100,step\n")
	strict := writeFile(t, "strict.yaml", "detect:\n  alert:\n    fire_z: 1000000\n")
	def := writeFile(t, "default.yaml", "")
	code, out, errs := tk(t, "eval", "--format", "wide-csv", "--data", data, "--labels", labels, "-c", def, "-c", strict)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	if !regexp.MustCompile(`events detected\|\s+1/1\|\s+0/1\|`).MatchString(out) {
		t.Errorf("want events detected 1/1 (default) and 0/1 (strict) side by side:\n%s", out)
	}
	if !regexp.MustCompile(`labels.csv:2\s+r1\s+step\s+\S+\s+\+\d+s output-load\s+missed`).MatchString(out) {
		t.Errorf("want the event row with a latency and missed:\n%s", out)
	}
	if !strings.Contains(errs, "default.yaml: backtest: 1200 points") {
		t.Errorf("stderr %q: want the final progress line with 1200 points", errs)
	}
	code, out, errs = tk(t, "eval", "--format", "wide-csv", "--data", data, "--labels", labels, "-c", def, "--json")
	if code != 0 {
		t.Fatalf("json: code %d: %s", code, errs)
	}
	var res []struct {
		Name   string
		Points int64
		Report struct{ Detected, Missed int }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if len(res) != 1 || res[0].Points != 1200 || res[0].Report.Detected != 1 || res[0].Report.Missed != 0 {
		t.Errorf("json %+v, want one result of 1200 points with 1 detected", res)
	}
}

// TestEvalBadInput checks that bad input gives one actionable line.
func TestEvalBadInput(t *testing.T) {
	data := stepCSV(t)
	f := func(want string, args ...string) {
		t.Helper()
		code, _, errs := tk(t, append([]string{"eval"}, args...)...)
		if code != 1 || !strings.Contains(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("eval %v: code %d, stderr %q; want one line with %q", args, code, errs, want)
		}
	}
	unknown := writeFile(t, "l.csv", "node,start,end\nr1,1500000000,1500000100\nr2,1500000000,1500000100\n")
	f(`l.csv:3: unknown device "r2" (the data has r1)`, "--format", "wide-csv", "--data", data, "--labels", unknown)
	bad := writeFile(t, "b.csv", "node,start,end\nr1,later,1500000100\n")
	f(`b.csv:2: start: "later" is neither epoch seconds nor RFC 3339`, "--format", "wide-csv", "--data", data, "--labels", bad)
	f(`format "csv" is not one of parquet, nab, wide-csv`, "--format", "csv", "--data", data)
	f("--data and --format are required", "--data", data)
}
