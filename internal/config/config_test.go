package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Topics.Samples != "tk.samples" || c.Sim.Devices != 20 || c.Parquet.Root != DefaultDataDir || !*c.Parquet.Enabled {
		t.Fatalf("defaults: %+v", c)
	}
	if _, err := Parse("empty.yaml", nil); err != nil {
		t.Fatalf("empty config: %v", err)
	}
}

func TestParse(t *testing.T) {
	c, err := Parse("ok.yaml", []byte(`
kafka:
  brokers: [127.0.0.1:9092]
sim:
  devices: 3
  interval: 5s
  speed: .inf
  faults:
    - {device: sim-02, interface: Ethernet2, kind: traffic_drop, after: 1h, duration: 5m}
detect:
  alert: {fire_z: 8}
clickhouse:
  addr: [127.0.0.1:9000]
  password: {env: CH_PASSWORD}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sim.Devices != 3 || c.Sim.Interval != 5*time.Second || c.Sim.Faults[0].Factor != 0.05 || c.Detect.Alert.FireZ != 8 || c.Detect.Alert.ResolveZ != 3 {
		t.Fatalf("parsed: %+v", c)
	}
}

// TestErrorsNameLineAndField is the contract of `telekernel check`.
func TestErrorsNameLineAndField(t *testing.T) {
	f := func(doc, want string) {
		t.Helper()
		_, err := Parse("bad.yaml", []byte(doc))
		if err == nil {
			t.Fatalf("%q: want an error", doc)
		}
		if got := err.Error(); !strings.HasPrefix(got, want) || strings.Contains(got, "\n") {
			t.Errorf("got  %q\nwant prefix %q", got, want)
		}
	}
	f("kafka:\n  brokers: [nocolon]\n", "bad.yaml:2: kafka.brokers: \"nocolon\" is not host:port")
	f("sim:\n  devices: 3\n  devcies: 4\n", "bad.yaml: line 3: field devcies not found")
	f("detect:\n  alert:\n    fire_z: 6\n    resolve_z: 9\n", "bad.yaml:4: detect.alert.resolve_z: 9 must be positive and below fire_z (6)")
	f("detect:\n  counters:\n    window: 2\n", "bad.yaml:3: detect.counters.window: 2 is too small")
	f("sim:\n  faults:\n    - {device: sim-01, interface: Ethernet1, kind: boom, duration: 1m}\n", "bad.yaml:3: sim.faults[0].kind: \"boom\" is not")
	f("sim:\n  interval: soon\n", "bad.yaml: line 2: cannot unmarshal !!str `soon` into time.Duration")
	f("log:\n  level: loud\n", "bad.yaml:2: log.level: \"loud\" is not")
	f("kafka: [\n", "bad.yaml: line 1")
	f("parquet:\n  timestamp_unit: ms\n", "bad.yaml:2: parquet.timestamp_unit")
	f("alertmanager:\n  timeout: 5s\n  url: ftp://am:9093\n", "bad.yaml:3: alertmanager.url: scheme \"ftp\" is not http or https")
	f("alertmanager:\n  url: http://am:9093\n  username: tk\n", "bad.yaml:1: alertmanager.password: required with username")
	f("stages: [detect, alerts]\n", "bad.yaml:1: stages[1]: \"alerts\" is not one of")
}
