package collectors

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// TestCollectorLogsInsecureSkipVerify: `collect gnmi` logs one warning for
// a target whose tls turns off the check of the device's certificate, as
// every command logs its risky settings at start (README, "a collector its
// targets' own"), naming the target. Before, only `check` printed it: the
// collector logged the plaintext-credentials and weak-SNMPv3 warnings and
// said nothing about a target anyone on the path could impersonate.
func TestCollectorLogsInsecureSkipVerify(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	cfg := &Config{Section: Section{GNMI: gnmi.Config{Targets: []gnmi.Target{
		{Name: "r1", Address: "10.0.0.1:57400", TLS: tlsfiles.Config{Enabled: true, InsecureSkipVerify: true}},
	}}}}
	warn := warnRisky(log)
	warn(cfg)
	warn(cfg) // a reload: not again
	out := buf.String()
	if strings.Count(out, "insecure_skip_verify") != 1 || !strings.Contains(out, "r1") || !strings.Contains(out, "level=WARN") {
		t.Errorf("log %q: want one WARN line naming r1 and insecure_skip_verify", out)
	}
}
