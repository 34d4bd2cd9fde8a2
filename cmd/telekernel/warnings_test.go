package main

import (
	"strings"
	"testing"
)

// TestReadersLogRiskyConfig: the commands that read Kafka with the file's
// credentials (incidents, report --incident, report --kafka) log the
// file's risky settings as every other command does, so a SASL PLAIN
// password sent in the clear is not sent silently. Before, they printed
// only their own error.
func TestReadersLogRiskyConfig(t *testing.T) {
	pw := writeFile(t, "pw", "secret")
	cfg := writeFile(t, "plain.yaml", "kafka:\n  brokers: [127.0.0.1:1]\n  connect_timeout: 1s\n  sasl: {mechanism: PLAIN, username: u, password: {file: "+pw+"}}\n")
	for _, args := range [][]string{
		{"incidents", "-c", cfg},
		{"report", "--incident", "x", "-c", cfg, "--out", t.TempDir()},
		{"report", "--device", "sim-01", "--kafka", "-c", cfg, "--out", t.TempDir()},
	} {
		code, _, stderr := tk(t, args...)
		if code != 1 || !strings.Contains(stderr, "risky config: kafka.sasl.mechanism: PLAIN without tls.enabled") {
			t.Errorf("%q: exit %d, stderr %q; want 1 and the risky-config warning", args, code, stderr)
		}
		if strings.Contains(stderr, "secret") {
			t.Errorf("%q: the password is in stderr: %q", args, stderr)
		}
	}
}
