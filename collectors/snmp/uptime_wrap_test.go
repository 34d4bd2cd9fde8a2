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

// TestRestartNearWrapNotTakenForWrap: the agent answered 0.5 s before its
// 497-day sysUpTime wrap, then was unreachable for an hour (simulated by
// moving the last answer back an hour) and restarted during it: it answers
// with 30 min of uptime and its 32-bit ifInErrors back near 0. That is a
// restart (a wrap moves sysUpTime on by the time elapsed, an hour here):
// a restart mark, no false 32-bit wrap. Before, the wrap check took any
// value whose distance forward (mod 2^32) was at most the time elapsed for
// a wrap, and suppressed the restart check that would have caught it.
func TestRestartNearWrapNotTakenForWrap(t *testing.T) {
	a := newRebootAgent(t)
	var st state
	a.set(math.MaxUint32-49, 5000, false) // 0.5 s before the wrap
	if _, err := pollAgent(t, a, &st); err != nil {
		t.Fatal(err)
	}
	st.upAt = st.upAt.Add(-time.Hour) // an hour of failed polls since
	a.set(180_000, 10, false)         // restarted 30 min ago
	got, err := pollAgent(t, a, &st)
	if err != nil {
		t.Fatal(err)
	}
	if vals, restarts := inErrors(got); restarts != 1 || len(vals) != 0 {
		t.Fatalf("agent restarted 30 min into an hour-long outage that straddled the sysUpTime wrap: %d restart marks and in-errors %v, want 1 mark and no counter (a new baseline)", restarts, vals)
	}
}
