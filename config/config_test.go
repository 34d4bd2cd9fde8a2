package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/stages/detect"
)

func TestDefaultsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Topics.Samples != "tk.samples" || c.Sim.Devices != ShowcaseDevices || c.Parquet.Root != DefaultDataDir || !*c.Parquet.Enabled {
		t.Fatalf("defaults: %+v", c)
	}
	if _, err := Parse("empty.yaml", nil); err != nil {
		t.Fatalf("empty config: %v", err)
	}
}

// TestShowcaseFleet checks the embedded default's scenario: a leaf/spine
// fabric with the showcase faults, interfaces enough for a spine's leaves
// on a larger fleet, the simulator's default fault on a smaller one, and
// never on a file's config.
func TestShowcaseFleet(t *testing.T) {
	c := Default()
	f := c.Sim.Fleet()
	if f.Topology.Spines != 2 || f.Interfaces != 8 || len(f.Faults) != len(ShowcaseFaults()) {
		t.Fatalf("showcase fleet: %+v", f)
	}
	c.Sim.Devices = 20
	if f := c.Sim.Fleet(); f.Interfaces != 18 || c.Validate() != nil {
		t.Fatalf("20 devices: %d interfaces, %v", f.Interfaces, c.Validate())
	}
	c.Sim.Devices = 3
	if f := c.Sim.Fleet(); f.Topology.Spines != 0 || f.Faults != nil || c.Validate() != nil {
		t.Fatalf("3 devices: %+v, %v", f, c.Validate())
	}
	p, err := Parse("empty.yaml", []byte("sim:\n  devices: 10\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f := p.Sim.Fleet(); f.Topology.Spines != 0 || f.Faults != nil {
		t.Fatalf("a file's fleet got the showcase: %+v", f)
	}
}

func TestParse(t *testing.T) {
	t.Setenv("CH_PASSWORD", "x")
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
	if c.Sim.Devices != 3 || c.Sim.Interval != 5*time.Second || c.Sim.Faults[0].Factor != 0.05 || c.Detect.Detectors.Counters.MinZ != 8 || c.Detect.Detectors.Gauges.ResolveZ != 3 {
		t.Fatalf("parsed: %+v", c)
	}
	if d := c.Deprecated(); len(d) != 1 || d[0] != "detect."+detect.AlertDeprecation {
		t.Errorf("Deprecated() = %q, want the one detect.alert line", d)
	}
}

// TestErrorsNameLineAndField is the contract of `telekernel check`.
func TestErrorsNameLineAndField(t *testing.T) {
	f := func(doc, want string) { t.Helper(); wantParseError(t, doc, want) }
	f("kafka:\n  brokers: [nocolon]\n", "bad.yaml:2: kafka.brokers[0]: \"nocolon\" is not host:port")
	f("kafka:\n  brokers: [\"tk:hunter2@k:9092\"]\n", "bad.yaml:2: kafka.brokers[0]: want host:port, without a user, password or scheme (credentials go in sasl)")
	f("sim:\n  devices: 3\n  devcies: 4\n", "bad.yaml:3: sim.devcies: unknown field (did you mean devices?)")
	f("detect:\n  alert:\n    fire_z: 6\n    resolve_z: 9\n", "bad.yaml:4: detect.alert.resolve_z: 9 must be positive and below fire_z (6)")
	f("detect:\n  counters:\n    window: 2\n", "bad.yaml:3: detect.counters.window: 2 is too small")
	f("sim:\n  faults:\n    - {device: sim-01, interface: Ethernet1, kind: boom, duration: 1m}\n", "bad.yaml:3: sim.faults[0].kind: \"boom\" is not")
	f("sim:\n  interval: soon\n", `bad.yaml:2: sim.interval: "soon" is not a duration like 10s`)
	f("log:\n  level: loud\n", "bad.yaml:2: log.level: \"loud\" is not")
	f("kafka: [\n", "bad.yaml:1: did not find expected node content at the end of the file")
	f("parquet:\n  timestamp_unit: ms\n", "bad.yaml:2: parquet.timestamp_unit")
	f("alertmanager:\n  timeout: 5s\n  url: ftp://am:9093\n", "bad.yaml:3: alertmanager.url: scheme \"ftp\" is not http or https")
	f("alertmanager:\n  url: http://am:9093\n  username: tk\n", "bad.yaml:1: alertmanager.password: required with username")
}

// TestCheckRefusesWhatRunRefuses lists configs whose values parse but that
// a start would refuse (files, secrets, addresses), and decode errors that
// must still name the field; each error is one line naming file, line and
// field.
func TestCheckRefusesWhatRunRefuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TK_TEST_EMPTY", "")
	f := func(doc, want string) { t.Helper(); wantParseError(t, doc, want) }
	// Files and secrets.
	f("kafka:\n  brokers: [k:9092]\n  tls:\n    enabled: true\n    ca_file: /nonexistent/ca.pem\n",
		"bad.yaml:5: kafka.tls.ca_file: cannot read it: open /nonexistent/ca.pem: no such file")
	f("kafka:\n  tls: {enabled: true, ca_file: "+file+"}\n", "bad.yaml:2: kafka.tls.ca_file: "+file+" holds no PEM certificate")
	f("kafka:\n  tls:\n    enabled: true\n    cert_file: /c.pem\n", "bad.yaml:2: kafka.tls.key_file: required with cert_file")
	f("kafka:\n  tls:\n    ca_file: /c.pem\n", "bad.yaml:2: kafka.tls.enabled: files or options are set but enabled is false")
	f("kafka:\n  sasl:\n    mechanism: SCRAM-SHA-512\n    username: tk\n    password: {env: TK_TEST_UNSET_VAR}\n",
		"bad.yaml:5: kafka.sasl.password: environment variable TK_TEST_UNSET_VAR is not set")
	f("kafka:\n  sasl:\n    mechanism: PLAIN\n    username: tk\n", "bad.yaml:2: kafka.sasl.password: required with a mechanism")
	f("clickhouse:\n  addr: [c:9000]\n  password:\n    file: /nonexistent/pw\n", "bad.yaml:3: clickhouse.password: cannot read secret file")
	f("clickhouse:\n  addr: [c:9000]\n  password: {env: TK_TEST_EMPTY}\n", "bad.yaml:3: clickhouse.password: environment variable TK_TEST_EMPTY is empty")
	f("clickhouse:\n  addr: [c:9000]\n  tls: {enabled: true, cert_file: /c.pem, key_file: /k.pem}\n", "bad.yaml:3: clickhouse.tls.cert_file: cannot read it")
	f("alertmanager:\n  url: http://am:9093\n  username: tk\n  password: {env: TK_TEST_UNSET_VAR}\n", "bad.yaml:4: alertmanager.password: environment variable")
	f("alertmanager:\n  url: http://am:9093\n  bearer_token: {env: TK_TEST_UNSET_VAR}\n", "bad.yaml:3: alertmanager.bearer_token: environment variable")
	f("alertmanager:\n  url: http://am:9093\n  username: tk\n  password: {env: X}\n  bearer_token: {env: Y}\n", "bad.yaml:5: alertmanager.bearer_token: set either bearer_token or username/password, not both")
	f("http:\n  listen: notanaddr\n", `bad.yaml:2: http.listen: "notanaddr" is not host:port (e.g. 127.0.0.1:9464) or off`)
	f("http:\n  tls: {cert_file: /nonexistent/c.pem, key_file: /k.pem}\n", "bad.yaml:2: http.tls.cert_file: cannot read it")
	f("http:\n  username: prom\n", "bad.yaml:1: http.password: required with username")
	f("parquet:\n  root: "+file+"/lake\n", "bad.yaml:2: parquet.root: "+file+"/lake is not a folder ("+file+" is a file)")
	f("sim:\n  labels_file: "+file+"/labels.jsonl\n", "bad.yaml:2: sim.labels_file: "+file+" is not a folder")
	// Values.
	f("clickhouse:\n  addr: [c:9000]\n  database: tk-db\n", `bad.yaml:3: clickhouse.database: "tk-db" is not a plain identifier`)
	f("clickhouse:\n  addr: [c:9000, c:native]\n", `bad.yaml:2: clickhouse.addr[1]: "c:native" is not host:port`)
	f("topics:\n  samples: tk samples\n", `bad.yaml:2: topics.samples: "tk samples" has ' ': a Kafka topic name takes only`)
	f("topics:\n  group_prefix: \"..\"\n", `bad.yaml:2: topics.group_prefix: ".." is not a Kafka topic name`)
	f("topics:\n  group_prefix: "+strings.Repeat("g", 224)+"\n", "bad.yaml:2: topics.group_prefix: 224 characters is too long")
	// A dead letter on a topic stages read would come back to them for ever.
	f("topics:\n  dead_letters: tk.samples\n", `bad.yaml:2: topics.dead_letters: "tk.samples" is topics.samples, which stages read`)
	f("topics:\n  detections: tk.det\n  dead_letters: tk.det\n", `bad.yaml:3: topics.dead_letters: "tk.det" is topics.detections`)
	f("topics:\n  dead_letters: tk.incidents\n", `bad.yaml:2: topics.dead_letters: "tk.incidents" is correlate.topic`)
	// The correlate route would read back what it writes, for ever; the
	// others would mix their records into the detections.
	f("correlate:\n  input: tk.detections\n", `bad.yaml:2: correlate.input: "tk.detections" is topics.detections too: each needs a topic of its own`)
	f("correlate:\n  topic: tk.detections\n", `bad.yaml:2: correlate.topic: "tk.detections" is topics.detections too`)
	f("inventory:\n  topic: tk.samples\n", `bad.yaml:2: inventory.topic: "tk.samples" is topics.samples too`)
	f("correlate:\n  input: tk.inv\ninventory:\n  topic: tk.inv\n", `bad.yaml:4: inventory.topic: "tk.inv" is correlate.input too`)
	f("topics:\n  power: tk.shared\ncorrelate:\n  topic: tk.shared\n", `bad.yaml:4: correlate.topic: "tk.shared" is topics.power too`)
	f("topics:\n  maintenance: tk.shared\ncorrelate:\n  input: tk.shared\n", `bad.yaml:4: correlate.input: "tk.shared" is topics.maintenance too`)
	f("topics:\n  alert_state: tk.shared\ninventory:\n  topic: tk.shared\n", `bad.yaml:4: inventory.topic: "tk.shared" is topics.alert_state too`)
	f("parquet:\n  flush_interval: -1s\n", "bad.yaml:2: parquet.flush_interval: -1s must be positive")
	f("clickhouse:\n  flush_rows: -5\n", "bad.yaml:2: clickhouse.flush_rows: -5 must be positive")
	f("sim:\n  backfill: 1h\n  span: -1h\n", "bad.yaml:3: sim.span: -1h0m0s must not be negative")
	f("sim:\n  backfill: -1h\n", "bad.yaml:2: sim.backfill: -1h0m0s must not be negative")
	f("inventory:\n  lldp_expiry: -1s\n", "bad.yaml:2: inventory.lldp_expiry: must not be negative")
	f("power:\n  device_expiry: 30s\n", "bad.yaml:2: power.device_expiry: 30s is too short (at least 1m; a negative value: never)")
	// Decode errors name the field, with a suggestion where one helps.
	f("parquet:\n  enabled: true\n  flush_interval: 10\n", "bad.yaml:3: parquet.flush_interval: 10 is not a duration: give a unit, e.g. 10s")
	f("kafka:\n  brokerz: [k:9092]\n", "bad.yaml:2: kafka.brokerz: unknown field (did you mean brokers?)")
	f("kafka:\n  brokers: k:9092\n", `bad.yaml:2: kafka.brokers: "k:9092" is not a list`)
	// A value that may hold a password (user:password@host, a URL) is not repeated.
	f("kafka:\n  brokers: user:hunter2@k:9092\n", `bad.yaml:2: kafka.brokers: a value that may hold a password (not shown) is not a list`)
	f("kafka:\n  brokers: SASL_SSL://user:hunter2@k:9092\n", `bad.yaml:2: kafka.brokers: a value that may hold a password (not shown) is not a list`)
	f("kafka: {brokers: [k:9092], tls: {enabled: yes please}}\n", `bad.yaml:1: kafka.tls.enabled: "yes please" is not true or false`)
	f("sim:\n  faults:\n    - {device: sim-01, kind: link_down, after: 5}\n", "bad.yaml:3: sim.faults[0].after: 5 is not a duration")
	f("sim:\n  faults:\n    - {device: sim-01, knd: link_down}\n", "bad.yaml:3: sim.faults[0].knd: unknown field (did you mean kind?)")
	// Whole units are not a setting (the detect stage applies them to every gauge).
	f("detect:\n  detectors:\n    gauges: {whole_units: false}\n", "bad.yaml:3: detect.detectors.gauges.whole_units: unknown field")
	f("topics:\n  partitions: many\n", `bad.yaml:2: topics.partitions: "many" is not an integer`)
	// A value yaml.v3 shortens ("127.0.0...") keeps its field and is shown whole.
	f("kafka:\n  brokers: 127.0.0.1:9092\n", `bad.yaml:2: kafka.brokers: "127.0.0.1:9092" is not a list`)
	f("sim: {speed: veryfastindeed}\n", `bad.yaml:1: sim.speed: "veryfastindeed" is not a number`)
	f("sim:\n  devices: ten\n", `bad.yaml:2: sim.devices: "ten" is not an integer`)
	// Syntax errors have a line too.
	f("sim:\n\tdevices: 3\n", "bad.yaml:2: tabs are not allowed for indentation")
	f("sim: {speed: 1\n  devices: 3}\n", "bad.yaml:2: did not find expected ',' or '}' in the flow mapping {…} that starts at line 1")
	f("log: debug\n", `bad.yaml:1: log: "debug" is not a section`)
	f("clickhouse:\n  addr: [c:9000]\n  password: hunter2\n", "bad.yaml:3: clickhouse.password: a secret is never written in the config file: give {file: PATH} or {env: VAR}")
	// A secret in a flow mapping is found by its field's type, never read.
	f("collect:\n  gnmi:\n    targets:\n      - {name: r1, address: \"10.0.0.1:57400\", username: u, password: hunter2}\n",
		"bad.yaml:4: collect.gnmi.targets[0].password: a secret is never written in the config file")
	f("clickhouse:\n  addr: [c:9000]\n  password_file: /nonexistent/pw\n", "bad.yaml:3: clickhouse.password_file: cannot read secret file")
	f("clickhouse:\n  addr: [c:9000]\n  tls: {enable: true, ca_file: /nonexistent/ca.pem}\n", "bad.yaml:3: clickhouse.tls.ca_file: cannot read it")
	f("parquet:\n  compression: brotli\n", `bad.yaml:2: parquet.compression: "brotli" is not one of zstd`)
}

// TestWarnsKafkaPlainWithoutTLS: SASL PLAIN sends the password as it is,
// so without TLS anyone on the path reads it; check warns, as it does for
// gNMI credentials over plaintext. SCRAM, or PLAIN over TLS, does not.
func TestWarnsKafkaPlainWithoutTLS(t *testing.T) {
	t.Setenv("TK_TEST_KAFKA_PW", "hunter2")
	f := func(kafka string, want bool) {
		t.Helper()
		c, err := Parse("c.yaml", []byte("kafka: {brokers: [k:9092], "+kafka+"}\n"))
		if err != nil {
			t.Fatal(err)
		}
		w := c.Warnings()
		if got := len(w) == 1 && strings.HasPrefix(w[0], "kafka.sasl.mechanism: ") && !strings.Contains(w[0], "hunter2"); got != want || !want && len(w) != 0 {
			t.Errorf("%s: warnings %q, want one: %v", kafka, w, want)
		}
	}
	pw := "password: {env: TK_TEST_KAFKA_PW}"
	f("sasl: {mechanism: PLAIN, username: tk, "+pw+"}", true)
	f("sasl: {mechanism: plain, username: tk, "+pw+"}", true)
	f("sasl: {mechanism: PLAIN, username: tk, "+pw+"}, tls: {enabled: true}", false)
	f("sasl: {mechanism: SCRAM-SHA-512, username: tk, "+pw+"}", false)
}

// TestWarnsInsecureSkipVerify: a TLS client that does not verify the
// server's certificate (Kafka, ClickHouse, Alertmanager, a gNMI target)
// still runs, and check names it.
func TestWarnsInsecureSkipVerify(t *testing.T) {
	const doc = `kafka: {brokers: [k:9092], tls: {enabled: true, insecure_skip_verify: true}}
clickhouse: {addr: [ch:9440], tls: {enabled: true, insecure_skip_verify: true}}
alertmanager: {url: "https://am:9093", tls: {enabled: true, insecure_skip_verify: true}}
collect:
  gnmi:
    targets:
      - {name: r1, address: "r1:6030", tls: {enabled: true}}
      - {name: r2, address: "r2:6030", tls: {enabled: true, insecure_skip_verify: true}}
`
	c, err := Parse("c.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Warnings()
	want := []string{"kafka.tls.insecure_skip_verify: ", "clickhouse.tls.insecure_skip_verify: ",
		"alertmanager.tls.insecure_skip_verify: ", "collect.gnmi.targets[1] (r2): tls.insecure_skip_verify: "}
	if len(w) != len(want) {
		t.Fatalf("warnings: %q", w)
	}
	for i := range want {
		if !strings.HasPrefix(w[i], want[i]) {
			t.Errorf("warning %d: %q, want %q...", i, w[i], want[i])
		}
	}
}
