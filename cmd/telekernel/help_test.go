package main

import (
	"strings"
	"testing"
)

// TestFlagHelpNamesTheDefault: a flag's help names the default that
// applies to its command: collect's --http falls back on
// collect.http.listen (127.0.0.1:9465, not run's http.listen), and sim,
// which has no embedded broker, takes --kafka instead of the config's
// kafka.brokers. Before, collect's help named http.listen and sim's said
// "instead of the embedded broker".
func TestFlagHelpNamesTheDefault(t *testing.T) {
	flagLine := func(cmd, flag string) string {
		t.Helper()
		_, out, _ := tk(t, cmd, "--help")
		for _, l := range strings.Split(out, "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "--"+flag+" ") {
				return l
			}
		}
		t.Fatalf("%s --help has no --%s", cmd, flag)
		return ""
	}
	if l := flagLine("collect", "http"); !strings.Contains(l, "collect.http.listen") || !strings.Contains(l, "127.0.0.1:9465") {
		t.Errorf("collect --http: %q; want the default collect.http.listen, 127.0.0.1:9465", l)
	}
	if l := flagLine("sim", "kafka"); strings.Contains(l, "embedded") || !strings.Contains(l, "kafka.brokers") {
		t.Errorf("sim --kafka: %q; want it to name the config's kafka.brokers, not an embedded broker", l)
	}
}
