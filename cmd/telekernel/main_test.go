package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/sinks/parquet"
)

// tk runs the CLI in-process and returns its exit code, stdout and stderr.
func tk(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	good := writeFile(t, "good.yaml", "sim:\n  devices: 3\ndetect:\n  alert:\n    fire_z: 7\n")
	if code, out, _ := tk(t, "check", "-c", good); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("good config: code %d, %q", code, out)
	}
	f := func(body, want string) {
		t.Helper()
		p := writeFile(t, "bad.yaml", body)
		code, _, stderr := tk(t, "check", "-c", p)
		if code != 1 || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("check %q: code %d, stderr %q, want one line containing %q", body, code, stderr, want)
		}
	}
	f("sim:\n  devices: 3\ndetect:\n  alert:\n    fire_z: 6\n    resolve_z: 7\n", "bad.yaml:6: detect.alert.resolve_z")
	f("kafka:\n  brokers: [localhost]\n", "bad.yaml:2: kafka.brokers")
	f("clickhouse:\n  adr: [x:1]\n", "bad.yaml:2: clickhouse.adr: unknown field (did you mean addr?)")
	// Configs whose values parse but that run or collect would refuse.
	f("kafka:\n  brokers: [127.0.0.1:9092]\n  tls: {enabled: true, ca_file: /nonexistent/ca.pem}\n", "bad.yaml:3: kafka.tls.ca_file: cannot read it")
	f("clickhouse:\n  addr: [127.0.0.1:9000]\n  password: {file: /nonexistent/pw}\n", "bad.yaml:3: clickhouse.password: cannot read secret file")
	f("kafka:\n  sasl: {mechanism: SCRAM-SHA-512, username: tk, password: {env: TK_TEST_UNSET_VAR}}\n", "bad.yaml:2: kafka.sasl.password: environment variable TK_TEST_UNSET_VAR is not set")
	f("kafka:\n  tls:\n    enabled: true\n    cert_file: /c.pem\n", "bad.yaml:2: kafka.tls.key_file: required with cert_file")
	f("http:\n  listen: notanaddr\n", `bad.yaml:2: http.listen: "notanaddr" is not host:port`)
	f("parquet:\n  root: /proc/version/lake\n", "bad.yaml:2: parquet.root: /proc/version/lake is not a folder")
	f("parquet:\n  flush_interval: 10\n", "bad.yaml:2: parquet.flush_interval: 10 is not a duration: give a unit, e.g. 10s")
	f("parquet:\n  flush_rows: -1\n", "bad.yaml:2: parquet.flush_rows: -1 must be positive")
	f("sim:\n  span: -1h\n", "bad.yaml:2: sim.span: -1h0m0s must not be negative")
	f("kafka:\n  brokers: [127.0.0.1:9092]\ncollect:\n  gnmi:\n    targets:\n      - {name: r1, address: r1:6030, username: u, password: {env: TK_TEST_UNSET_VAR}}\n",
		"bad.yaml:6: collect.gnmi.targets[0].password: environment variable TK_TEST_UNSET_VAR is not set")
	f("kafka:\n  brokers: [127.0.0.1:9092]\ncollect:\n  snmp:\n    targets:\n      - {name: a, address: 10.0.0.1, version: v4}\n", "bad.yaml:6: collect.snmp.targets[0].version")
	f("collect:\n  gnmi:\n    targets: [{name: r1, address: \"r1:6030\"}]\n", "bad.yaml: kafka.brokers: at least one broker is required to collect")
	// A collector-only file of earlier releases is checked as before.
	f("kafka:\n  brokers: [127.0.0.1:9092]\nsnmp:\n  targets:\n    - {name: a, address: 10.0.0.1, version: v4}\n", "bad.yaml:5: snmp.targets[0].version")
	if code, _, stderr := tk(t, "check", "-c", "/nonexistent.yaml"); code != 1 || !strings.Contains(stderr, "cannot read config") {
		t.Errorf("missing file: %d %q", code, stderr)
	}
	for _, args := range [][]string{{"check"}, {"collect", "gnmi"}} {
		if code, _, stderr := tk(t, args...); code != 1 || !strings.Contains(stderr, args[0]+": -c FILE is required") {
			t.Errorf("%s without -c: code %d, stderr %q", args[0], code, stderr)
		}
	}
	t.Setenv("TK_TEST_GNMI_PW", "x")
	plain := writeFile(t, "plain.yaml", "kafka:\n  brokers: [127.0.0.1:9092]\ncollect:\n  gnmi:\n    targets:\n"+
		"      - {name: r1, address: r1:6030, username: u, password: {env: TK_TEST_GNMI_PW}}\n      - {name: r2, address: r2:6030}\n")
	code, out, stderr := tk(t, "check", "-c", plain)
	if code != 0 || !strings.HasSuffix(out, "plain.yaml: ok\n") || strings.Count(stderr, "\n") != 1 ||
		!strings.Contains(stderr, "warning: collect.gnmi.targets[0] (r1): username and password are sent in plaintext") {
		t.Errorf("credentials over plaintext: code %d, stdout %q, stderr %q, want ok and one warning", code, out, stderr)
	}
	// The same file in the collector-only shape of earlier releases: ok,
	// with the deprecation notice first.
	old := writeFile(t, "old.yaml", "kafka:\n  brokers: [127.0.0.1:9092]\ngnmi:\n  targets:\n"+
		"    - {name: r1, address: r1:6030, username: u, password: {env: TK_TEST_GNMI_PW}}\n")
	code, out, stderr = tk(t, "check", "-c", old)
	if lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); code != 0 || !strings.HasSuffix(out, "old.yaml: ok\n") || len(lines) != 2 ||
		!strings.Contains(lines[0], "old.yaml: warning: a collector-only file is deprecated: move gnmi, snmp") ||
		!strings.Contains(lines[1], "warning: gnmi.targets[0] (r1): username and password are sent in plaintext") {
		t.Errorf("collector-only file: code %d, stdout %q, stderr %q, want ok, the notice and the warning", code, out, stderr)
	}
}

// TestCollectLegacyFileNotice: `collect` reads a collector-only file of
// earlier releases and logs exactly one slog warning saying how to migrate
// (the run then stops on the bad --http, before connecting).
func TestCollectLegacyFileNotice(t *testing.T) {
	old := writeFile(t, "old.yaml", "kafka: {brokers: [127.0.0.1:9]}\nlog: {format: text}\nreload: 5s\ngnmi:\n  targets: [{name: r1, address: \"r1:6030\"}]\n")
	code, _, stderr := tk(t, "collect", "gnmi", "-c", old, "--http", "notanaddr")
	if code != 1 || strings.Count(stderr, "level=WARN") != 1 || strings.Count(stderr, "deprecated config: a collector-only file is deprecated: move gnmi") != 1 ||
		!strings.Contains(stderr, "telekernel: --http: ") {
		t.Errorf("collect on a collector-only file: code %d, stderr %q, want one deprecation warning then the --http error", code, stderr)
	}
	cur := writeFile(t, "cur.yaml", "kafka: {brokers: [127.0.0.1:9]}\nlog: {format: text}\ncollect:\n  reload: 5s\n  gnmi:\n    targets: [{name: r1, address: \"r1:6030\"}]\n")
	if code, _, stderr := tk(t, "collect", "gnmi", "-c", cur, "--http", "notanaddr"); code != 1 || strings.Contains(stderr, "level=WARN") {
		t.Errorf("collect on a current file: code %d, stderr %q, want no warning", code, stderr)
	}
}

// TestStartLogsRiskyEdges: a command logs a risky setting of the
// pipeline's edges at start, as check prints it: here a stage whose Kafka
// TLS does not verify the broker (the stage then fails to connect).
func TestStartLogsRiskyEdges(t *testing.T) {
	cfg := writeFile(t, "risky.yaml", "kafka: {brokers: [127.0.0.1:9], tls: {enabled: true, insecure_skip_verify: true}}\nlog: {format: text}\n")
	_, _, stderr := tk(t, "stage", "detect", "-c", cfg, "--for", "1s", "--http", "off")
	if strings.Count(stderr, "risky config: kafka.tls.insecure_skip_verify") != 1 {
		t.Errorf("stage with kafka.tls.insecure_skip_verify: stderr %q, want one risky config warning", stderr)
	}
}

// TestStartErrorPrintsNoSummary: a run that cannot start prints its error
// only, not an all-zero summary.
func TestStartErrorPrintsNoSummary(t *testing.T) {
	cfg := writeFile(t, "fast.yaml", "kafka:\n  connect_timeout: 2s\nhttp:\n  listen: \"off\"\n")
	code, out, stderr := tk(t, "run", "-c", cfg, "--kafka", "127.0.0.1:1", "--data", t.TempDir())
	if code != 1 || out != "" || strings.Count(stderr, "\n") != 1 {
		t.Errorf("run against no broker: code %d, stdout %q, stderr %q; want exit 1, no summary, one line", code, out, stderr)
	}
	code, out, stderr = tk(t, "stage", "detect", "-c", cfg, "--kafka", "127.0.0.1:1")
	if code != 1 || out != "" || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stage against no broker: code %d, stdout %q, stderr %q; want exit 1, no summary, one line", code, out, stderr)
	}
}

func TestVersionAndSchema(t *testing.T) {
	if code, out, _ := tk(t, "version"); code != 0 || !strings.Contains(out, "samples v1, detection v1") {
		t.Errorf("version: %d %q", code, out)
	}
	_, modern, _ := tk(t, "schema", "ddl")
	_, legacy, _ := tk(t, "schema", "ddl", "--server-version", "18.16.1")
	if !strings.Contains(modern, "CODEC") || !strings.Contains(modern, "CREATE TABLE") {
		t.Errorf("modern DDL lacks codecs:\n%s", modern)
	}
	if strings.Contains(legacy, "CODEC") || strings.Contains(legacy, "DateTime64") || !strings.Contains(legacy, "CREATE TABLE") {
		t.Errorf("18.16 DDL uses features 18.16 lacks:\n%s", legacy)
	}
	if code, _, stderr := tk(t, "schema", "ddl", "--server-version", "banana"); code != 1 || !strings.Contains(stderr, "--server-version") {
		t.Errorf("bad version: %d %q", code, stderr)
	}
	if _, out, _ := tk(t, "schema", "samples"); !strings.Contains(out, "value_u64: type=uint64") {
		t.Errorf("samples schema: %q", out)
	}
}

func TestBadAddressesFailInOneLine(t *testing.T) {
	cfg := writeFile(t, "fast.yaml", "kafka:\n  connect_timeout: 2s\nhttp:\n  listen: \"off\"\n")
	start := time.Now()
	code, _, stderr := tk(t, "run", "-c", cfg, "--kafka", "127.0.0.1:1", "--for", "1s", "--data", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "telekernel: kafka 127.0.0.1:1: cannot connect") || !strings.HasSuffix(stderr, "?)\n") {
		t.Errorf("bad kafka: code %d, stderr %q", code, stderr)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("bad kafka took %v to fail", d)
	}
	code, _, stderr = tk(t, "run", "-c", cfg, "--clickhouse", "127.0.0.1:1", "--for", "1s", "--data", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "clickhouse 127.0.0.1:1") || !strings.Contains(stderr, "connection refused") {
		t.Errorf("bad clickhouse: code %d, stderr %q", code, stderr)
	}
}

// TestRunEmbeddedDefault runs `telekernel run --for` and checks that the
// Parquet files hold the row count the summary printed.
func TestRunEmbeddedDefault(t *testing.T) {
	data := t.TempDir()
	code, out, stderr := tk(t, "run", "--for", "3s", "--speed", "max", "--devices", "3", "--data", data, "--http", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("run: code %d\n%s", code, stderr)
	}
	m := regexp.MustCompile(`^telekernel: (\d+) samples in .* (\d+) parquet rows in (\d+) files(?:, \d+ [a-z ]+(?: \([^)]*\))?)*, 0 dead letters\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("summary %q does not match", out)
	}
	samples, _ := strconv.ParseInt(m[1], 10, 64)
	rows, _ := strconv.ParseInt(m[2], 10, 64)
	if samples == 0 || rows != samples {
		t.Fatalf("summary: %d samples, %d parquet rows", samples, rows)
	}
	if n, err := parquet.CountRows(data); err != nil || n != rows {
		t.Fatalf("parquet files under %s hold %d rows (%v), summary says %d", data, n, err, rows)
	}
	if _, err := os.Stat(filepath.Join(data, "labels.jsonl")); err != nil {
		t.Errorf("no ground-truth labels: %v", err)
	}
}
