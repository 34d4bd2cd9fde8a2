package collectors

import (
	"strings"
	"testing"

	"github.com/telekernel/telekernel/internal/testenv"
)

// TestTargetTLSNeverSilentlyPlaintext: a gNMI target whose tls section
// names only server_name (the certificate's name, for a device dialled by
// its IP) under defaults that turn TLS on must not end up subscribing in
// plaintext: the config is refused, naming the target's tls.enabled.
// Before, the target's tls replaced the defaults' whole, server_name
// alone did not count as a TLS setting, and the target subscribed without
// TLS (its telemetry, and its password, in the clear; no server check).
func TestTargetTLSNeverSilentlyPlaintext(t *testing.T) {
	_, ca := testenv.SelfSigned(t)
	doc := "kafka: {brokers: [a:1]}\ngnmi:\n  defaults:\n    tls: {enabled: true, ca_file: " + ca + "}\n" +
		"  targets:\n    - {name: r1, address: 10.0.0.1:57400, tls: {server_name: r1.example.net}}\n"
	c, err := ParseConfig("c.yaml", []byte(doc))
	if err == nil {
		tc, cerr := c.GNMI.Targets[0].TLS.Client()
		if tc == nil {
			t.Fatalf("target r1 runs without TLS (tls %+v, Client error %v): want TLS or a config error", c.GNMI.Targets[0].TLS, cerr)
		}
		return
	}
	if !strings.Contains(err.Error(), "gnmi.targets[0].tls.enabled") {
		t.Errorf("error %q does not name gnmi.targets[0].tls.enabled", err)
	}
}
