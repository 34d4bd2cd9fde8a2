package main

import (
	"strings"
	"testing"
)

// TestPositionalArgErrors: a missing, extra or unknown NAME of `stage` and
// `collect` is one line that says what to give and lists the choices,
// never cobra's own wording. Before, `telekernel stage` said "accepts 1
// arg(s), received 0" and `telekernel collect foo` said `invalid argument
// "foo" for "telekernel collect"`, naming no choice.
func TestPositionalArgErrors(t *testing.T) {
	f := func(want string, args ...string) {
		t.Helper()
		code, _, stderr := tk(t, args...)
		if code != 1 || stderr != "telekernel: "+want+"\n" {
			t.Errorf("%q: exit %d, stderr %q; want 1, %q", args, code, stderr, "telekernel: "+want+"\n")
		}
	}
	stages := "detect, power, maintain, inventory, parquet, clickhouse, alertstate, alertmanager, correlate"
	f("stage: give the stage to run, one of "+stages, "stage")
	f("stage: give one stage to run, one of "+stages, "stage", "detect", "power")
	f(`stage: "detcet" is not one of `+stages, "stage", "detcet")
	f("collect: give the collector to run, gnmi or snmp", "collect")
	f("collect: give one collector to run, gnmi or snmp", "collect", "gnmi", "snmp")
	f(`collect: "foo" is not gnmi or snmp`, "collect", "foo")
	for _, args := range [][]string{{"stage"}, {"collect", "x"}} {
		if _, _, stderr := tk(t, args...); strings.Contains(stderr, "arg(s)") || strings.Contains(stderr, "invalid argument") {
			t.Errorf("%q: cobra's wording: %q", args, stderr)
		}
	}
}
