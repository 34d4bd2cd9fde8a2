package snmp

import (
	"math"
	"testing"
	"time"
)

// TestSysUpTimeWrapIsNoRestart: sysUpTime is a 32-bit TimeTicks
// (centiseconds) that wraps to 0 after 497 days of agent uptime. An agent
// polled 0.5 s before the wrap and again 1 s later (0.5 s after the wrap)
// did not restart: its counter continued (5000 -> 5100). Before, the
// collector took the wrap for an agent restart: it published a false
// agent_restart discontinuity and dropped the poll's counters.
func TestSysUpTimeWrapIsNoRestart(t *testing.T) {
	a := newRebootAgent(t)
	var st state
	a.set(math.MaxUint32-49, 5000, false) // 0.5 s before the wrap
	if _, err := pollAgent(t, a, &st); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	a.set(50, 5100, false) // 1 s later: 0.5 s after the wrap, no restart
	got, err := pollAgent(t, a, &st)
	if err != nil {
		t.Fatal(err)
	}
	if vals, restarts := inErrors(got); restarts != 0 || len(vals) != 1 || vals[0] != 5100 {
		t.Fatalf("after sysUpTime wrapped (no restart): %d restart marks and in-errors %v, want no mark and [5100]", restarts, vals)
	}
}
