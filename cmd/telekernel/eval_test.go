package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
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
// default detects the labelled step, one with an unreachable fire_z and
// without level_shift does not; both appear side by side, and --json carries the same figures.
func TestEvalSideBySide(t *testing.T) {
	data := stepCSV(t)
	labels := writeFile(t, "labels.csv", "device,interface,start,end,kind\nr1,Eth1,1500005000,1500005100,step\n")
	// The strict configuration also leaves out level_shift, which fires on
	// the 50-fold step whatever fire_z is.
	strict := writeFile(t, "strict.yaml", "detect:\n  alert:\n    fire_z: 1000000\n  detectors:\n"+
		"    counters: {detectors: [robust_z, ewma, seasonal, cusum]}\n    gauges: {detectors: [robust_z, ewma, seasonal, cusum]}\n")
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
	f(`b.csv:2: start: "later" is neither an epoch time (seconds, milliseconds…) nor RFC 3339 or YYYY-MM-DD HH:MM:SS[.fff]`, "--format", "wide-csv", "--data", data, "--labels", bad)
	f(`format "csv" is not one of parquet, nab, wide-csv`, "--format", "csv", "--data", data)
	f("--data and --format are required", "--data", data)
	badCfg := writeFile(t, "bad.yaml", "detect:\n  alert:\n    fire_z: -1\n")
	f("bad.yaml:3: detect.alert.fire_z: -1 must be positive", "--format", "wide-csv", "--data", data, "-c", badCfg)
	// A file named by its device alone is in a group with no experiment
	// name: the error names the data given and the file.
	noTime := writeFile(t, "r7.csv", "when,value\n1,2\n")
	dir := filepath.Dir(noTime)
	f("cannot replay "+dir+": cannot read "+noTime+": no time column in the header (want time, timestamp, ts, datetime or date)", "--format", "wide-csv", "--data", dir)
	missing := filepath.Join(t.TempDir(), "labels.csv")
	f("eval: cannot read labels: stat "+missing+": no such file or directory", "--format", "wide-csv", "--data", data, "--labels", missing)
	empty := t.TempDir()
	f("eval: cannot load data: no .csv or .csv.gz or .tsv or .tsv.gz files in "+empty, "--format", "wide-csv", "--data", empty)
	badMap := writeFile(t, "map.yaml", "leaves:\n  x: {kind: status}\n")
	f(`map.yaml:2: leaves.x.kind: "status" is not counter, gauge or state`, "--format", "wide-csv", "--data", data, "--mapping", badMap)
}

// TestEvalDeviceFlag names the device of a wide CSV with --device.
func TestEvalDeviceFlag(t *testing.T) {
	labels := writeFile(t, "labels.csv", "node,start,end\ncore-1,1500005000,1500005100\n")
	code, out, errs := tk(t, "eval", "--format", "wide-csv", "--data", stepCSV(t), "--device", "core-1", "--labels", labels)
	if code != 0 || !regexp.MustCompile(`events detected\|\s+1/1\|`).MatchString(out) || !strings.Contains(out, "core-1") {
		t.Errorf("code %d, stderr %q, want core-1's event detected:\n%s", code, errs, out)
	}
}

// TestNoBenchmarksImport checks that the binary does not import
// benchmarks/ (issue 12: one detector path, no scoring logic only there).
func TestNoBenchmarksImport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "/telekernel/benchmarks") {
			t.Errorf("cmd/telekernel imports %s", p)
		}
	}
	if !strings.Contains(string(out), "telekernel/backtest\n") {
		t.Error("go list -deps does not list backtest: the check sees nothing")
	}
}

// TestEvalReplaysRun runs the embedded default for a few seconds (3
// devices, the default traffic spike on sim-01 45 minutes in), then
// backtests its Parquet lake against its labels.jsonl: the replay sees
// every sample the run wrote and emits as many detections as the run's
// detect stage did, and once the data covers the spike it is detected.
func TestEvalReplaysRun(t *testing.T) {
	data := t.TempDir()
	code, out, stderr := tk(t, "run", "--for", "10s", "--devices", "3", "--data", data, "--http", "off")
	if code != 0 {
		t.Fatalf("run: code %d\n%s", code, stderr)
	}
	m := regexp.MustCompile(`(\d+) samples in .*, (\d+) detections[ ,]`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("summary %q does not match", out)
	}
	code, js, stderr := tk(t, "eval", "--format", "parquet", "--data", data, "--labels", data+"/labels.jsonl", "--json")
	if code != 0 {
		t.Fatalf("eval: code %d\n%s", code, stderr)
	}
	var res []struct {
		Points     int64
		Detections int
		Report     struct {
			Detected int
			Events   []struct{ End time.Time }
			Devices  []struct {
				Device string
				Hours  float64
			}
		}
	}
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, js)
	}
	r := res[0]
	if fmt.Sprint(r.Points) != m[1] || fmt.Sprint(r.Detections) != m[2] {
		t.Errorf("eval replayed %d samples with %d detections; the run had %s samples and %s detections", r.Points, r.Detections, m[1], m[2])
	}
	hours := 0.0
	for _, d := range r.Report.Devices {
		if d.Device == "sim-01" {
			hours = d.Hours
		}
	}
	t.Logf("run: %s samples, %s detections; eval: %d/%d events detected, sim-01 spans %.2f h", m[1], m[2], r.Report.Detected, len(r.Report.Events), hours)
	if hours > 1 && r.Report.Detected != len(r.Report.Events) {
		t.Errorf("the data covers the spike (%.2f h) but %d of %d events are detected", hours, r.Report.Detected, len(r.Report.Events))
	}
}

// TestEvalLabelsAfterData scores a labels file whose last two events start
// after the wide CSV ends (at 1500005990): they are neither detected nor
// missed but named on one line, and --json lists them apart.
func TestEvalLabelsAfterData(t *testing.T) {
	data := stepCSV(t)
	labels := writeFile(t, "labels.csv", "device,start,end,kind\nr1,1500005000,1500005100,step\n"+
		"r1,1500006000,1500006100,fan_failure\nr1,1500009000,1500009100,fan_failure\n")
	code, out, errs := tk(t, "eval", "--format", "wide-csv", "--data", data, "--labels", labels)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for _, re := range []string{
		`events detected\|\s+1/1\|`,
		`missed events\|\s+0\|`,
		`(?m)^events not scored, outside the replayed data \(before its first sample or after its last\): 2, from labels\.csv:3, labels\.csv:4$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", re, out)
		}
	}
	if strings.Contains(out, "fan_failure") {
		t.Errorf("an event outside the data has a row of its own:\n%s", out)
	}
	code, js, errs := tk(t, "eval", "--format", "wide-csv", "--data", data, "--labels", labels, "--json")
	if code != 0 {
		t.Fatalf("json: code %d: %s", code, errs)
	}
	var res []struct {
		Report struct {
			Detected, Missed int
			Outside          []struct{ Line int } `json:"outside_data"`
		}
	}
	if err := json.Unmarshal([]byte(js), &res); err != nil || len(res) != 1 {
		t.Fatalf("json: %v\n%s", err, js)
	}
	if r := res[0].Report; r.Detected != 1 || r.Missed != 0 || len(r.Outside) != 2 || r.Outside[0].Line != 3 {
		t.Errorf("json %+v, want 1 detected, 0 missed, lines 3 and 4 outside", r)
	}
}

// TestEvalNABBadInput: eval nab names a missing labels file before it
// reads the data, and a bad row of the data by its file's path and line.
func TestEvalNABBadInput(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		code, _, errs := tk(t, append([]string{"eval", "nab"}, args...)...)
		if code != 1 || !strings.Contains(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("eval nab %v: code %d, stderr %q; want one line with %q", args, code, errs, want)
		}
	}
	data := t.TempDir()
	bad := filepath.Join(data, "realTest", "a.csv")
	if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("timestamp,value\n2014-01-01 00:00:00,1\nsoon,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "combined_windows.json")
	f("eval nab: cannot read labels: open "+missing+": no such file or directory", "--data", data, "--labels", missing)
	labels := writeFile(t, "windows.json", `{"realTest/a.csv": []}`)
	f("eval nab: cannot load NAB data: "+bad+`:3: cannot parse timestamp: parsing time "soon"`, "--data", data, "--labels", labels)
}
