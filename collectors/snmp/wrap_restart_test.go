package snmp

import (
	"math"
	"testing"
	"time"
)

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
