package main

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"testing"
)

// evalJSON is the part of eval --json that two replays of the same samples
// must agree on.
type evalJSON struct {
	Points     int64
	Detections int
	Firing     int
	Report     struct {
		Events []struct {
			Device, Kind   string
			Detected       bool
			Latency        int64  `json:"latency_ns"`
			DetectedMetric string `json:"detected_metric"`
			DetectedBy     string `json:"detected_by"`
		}
		Devices []struct {
			Device string
			Hours  float64
			Firing int
		}
	}
}

func evalResult(t *testing.T, args ...string) evalJSON {
	t.Helper()
	code, js, stderr := tk(t, append([]string{"eval", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("eval %v: code %d\n%s", args, code, stderr)
	}
	var res []evalJSON
	if err := json.Unmarshal([]byte(js), &res); err != nil || len(res) != 1 {
		t.Fatalf("eval %v: %v\n%s", args, err, js)
	}
	return res[0]
}

// TestEvalSimIsRun checks that eval --format sim replays what `telekernel
// run` feeds its detect stage from the same sim: section: run a leaf/spine
// fleet with a link_down for two simulated hours over gNMI and Kafka, then
// backtest its Parquet lake and the simulator in memory against the run's
// labels.jsonl. Both replays see the run's sample count and detection
// count, and agree on every event, latency, detecting series and device.
func TestEvalSimIsRun(t *testing.T) {
	data := t.TempDir()
	cfg := writeFile(t, "fabric.yaml", `sim:
  devices: 5
  interfaces: 3
  topology: {spines: 2}
  start: 2026-01-05T00:00:00Z
  span: 2h
  speed: .inf
  faults:
    - {device: sim-01, interface: Ethernet2, kind: traffic_spike, after: 50m, duration: 10m}
    - {device: sim-03, interface: Ethernet1, kind: link_down, after: 75m, duration: 5m}
http:
  listen: "off"
`)
	code, out, stderr := tk(t, "run", "-c", cfg, "--data", data)
	if code != 0 {
		t.Fatalf("run: code %d\n%s", code, stderr)
	}
	m := regexp.MustCompile(`(\d+) samples in .*, (\d+) detections,`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("summary %q does not match", out)
	}
	labels := data + "/labels.jsonl"
	lake := evalResult(t, "--format", "parquet", "--data", data, "--labels", labels)
	simulated := evalResult(t, "--format", "sim", "-c", cfg, "--labels", labels)
	t.Logf("run: %s samples, %s detections; eval sim: %d points, %d detections (%d firing)", m[1], m[2], simulated.Points, simulated.Detections, simulated.Firing)
	for name, r := range map[string]evalJSON{"parquet": lake, "sim": simulated} {
		if got := []string{itoa(r.Points), itoa(int64(r.Detections))}; got[0] != m[1] || got[1] != m[2] {
			t.Errorf("eval %s: %s points and %s detections; the run had %s and %s", name, got[0], got[1], m[1], m[2])
		}
	}
	if !reflect.DeepEqual(lake, simulated) {
		t.Errorf("eval sim differs from the run's lake:\nlake %+v\nsim  %+v", lake, simulated)
	}
	detected := 0
	for _, e := range simulated.Report.Events {
		if e.Detected && e.DetectedMetric != "" && e.DetectedBy != "" {
			detected++
		}
	}
	if simulated.Firing == 0 || detected == 0 {
		t.Error("nothing fired or no event detected: the comparison sees nothing")
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
