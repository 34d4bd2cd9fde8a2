package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/config"
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
	m := regexp.MustCompile(`(\d+) samples in .*, (\d+) detections[ ,]`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("summary %q does not match", out)
	}
	labels := data + "/labels.jsonl"
	lake := evalResult(t, "--format", "parquet", "--data", data, "--labels", labels)
	simulated := evalResult(t, "--format", "sim", "-c", cfg, "--labels", labels)
	t.Logf("run: %s samples, %s detections; eval sim: %d points, %d detections (%d firing)", m[1], m[2], simulated.Points, simulated.Detections, simulated.Firing)
	// The run's gNMI collector also publishes each target's state when it
	// comes up (state and reason, collectors/README.md "Target state"),
	// which the in-memory fleet does not emit: 2 rows for each of the 5
	// devices.
	simulated.Points += 2 * 5
	// The in-memory fleet emits each cabled port's LLDP neighbour count
	// on every tick, as the SNMP collector would; the run's gNMI collector
	// derives it from the neighbours and publishes it when it changes
	// (collectors/README.md "LLDP neighbours"): once per port end when it
	// first sees the neighbour, and on each end of the link_down when its
	// neighbour goes (0) and comes back (1). 6 links (3 leaves × 2
	// spines), 12 ends, 720 ticks.
	simulated.Points -= 12*720 - (12 + 2*2)
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

// TestEvalSim runs eval --format sim on the default fleet's default fault
// (a traffic spike on sim-01 45 minutes in), shrunk by --devices and
// --span: the fault table names the kind, what is expected of the detect
// stage and its path, and the spike is detected.
func TestEvalSim(t *testing.T) {
	code, out, errs := tk(t, "eval", "--format", "sim", "--devices", "2", "--span", "90m")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for _, re := range []string{
		`traffic_spike\s+fire\s+detect: counter rate \(in-octets, in-pkts\)\s+1/1 \+\d+s/\+\d+s`,
		`faults the detect stage must fire on\s+1/1 detected`,
		`false incidents per 100 device-hours\s+0 \(0 in 3 device-hours\)`,
		`sim\.faults\[0\]\s+traffic_spike\s+sim-01\s+name=Ethernet1\s+2026-01-05T00:45:00Z`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", re, out)
		}
	}
	if !strings.Contains(errs, "simulated 1.5 of 1.5 h") {
		t.Errorf("no final progress line with the simulated time: %q", errs)
	}
}

// TestEvalSimShowcase: eval --format sim with no configuration replays the
// fleet "telekernel run" runs with no arguments, the showcase's faults
// (ShowcaseFaults, ten devices with a leaf/spine topology); before, it
// replayed the simulator's default fault, so the embedded default's
// behaviour over days could not be replayed without writing its faults
// into a file.
func TestEvalSimShowcase(t *testing.T) {
	code, out, errs := tk(t, "eval", "--format", "sim", "--span", "1h")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for i, f := range config.ShowcaseFaults() {
		re := fmt.Sprintf(`sim\.faults\[%d\]\s+%s\s+%s\s`, i, f.Kind, f.Device)
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", re, out)
		}
	}
	if !regexp.MustCompile(`(?m)^sim-09\s`).MatchString(out) {
		t.Errorf("no row for the tenth device, sim-09:\n%s", out)
	}
}

// TestEvalSimBadInput checks that bad flags and a sim: section that does
// not fit give one line naming the problem.
func TestEvalSimBadInput(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		code, _, errs := tk(t, append([]string{"eval", "--format", "sim"}, args...)...)
		if code != 1 || !strings.Contains(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("eval %v: code %d, stderr %q; want one line with %q", args, code, errs, want)
		}
	}
	f("--format sim takes no --data", "--data", "x")
	f("--span must not be negative", "--span", "-1h")
	f("--devices must be at least 1", "--devices", "0")
	f(`sim.faults[0].device: "sim-04" is not one of sim-00 … sim-02`, "-c", "../../deploy/examples/sim-faults.yaml", "--devices", "3")
	labels := writeFile(t, "l.jsonl", `{"device":"edge-9","start":"2026-01-05T01:00:00Z","end":"2026-01-05T01:05:00Z"}`+"\n")
	f(`l.jsonl:1: unknown device "edge-9"`, "--devices", "2", "--labels", labels)
}

// TestEvalSimOutsideData replays the first hour of the example fleet whose
// first fault starts at 6 h: no fault is scored as missed; each is outside
// the data, and the required count says so. (The JSON fields are checked on
// a cheaper replay, TestEvalLabelsAfterData.)
func TestEvalSimOutsideData(t *testing.T) {
	code, out, errs := tk(t, "eval", "--format", "sim", "-c", "../../deploy/examples/sim-faults.yaml", "--span", "1h")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for _, re := range []string{
		`faults the detect stage must fire on\s+0/0 detected \(16 outside the replayed data, not scored\)`,
		`sim\.faults\[0\]\s+link_down\s+sim-04\s+name=Ethernet1\s+2026-01-05T06:00:00Z\s+outside the data`,
		`link_down\s+fire\s+.*outside the data`,
		`events not scored, outside the replayed data \(before its first sample or after its last\): \d+, from sim\.faults:0, `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", re, out)
		}
	}
	if regexp.MustCompile(`(?m)\s(missed|MISSED)(;|$)`).MatchString(out) {
		t.Errorf("a fault outside the data shows as missed:\n%s", out)
	}
}
