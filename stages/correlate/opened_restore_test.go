package correlate

import (
	"log/slog"
	"testing"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// TestOpenedNeverNegativeAfterRestore: Opened() is the run summary's "N
// incidents" and the live view's count, the incidents this process opened
// and not merged into another since it started. A stage restored from the
// changelog (a restart, a rebalance) takes over incidents another process
// opened; when its first detection makes one of them absorb the other
// (leaf1:e1 going down ties leaf1:e2's link incident to spine1's session,
// which it now explains), the absorbed one leaves this process's count
// as it is, since it never counted it, while the process that opened both
// counts the merge. Before, Process subtracted every merged incident it
// had not just opened, so the summary said "-1 incidents" for a process
// that opened none.
func TestOpenedNeverNegativeAfterRestore(t *testing.T) {
	F := schemas.StateFiring
	a, err := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	process(t, a, det(0, F, "leaf1", mOper, "name=e2", "link_down"))                                   // a link incident on leaf1
	process(t, a, det(0, F, "spine1", mBGP, "name=default,neighbor-address=10.9.9.9", "session_down")) // spine1's session: its own
	a.Committed(2)
	if n := a.Opened(); n != 2 {
		t.Fatalf("first process: Opened() = %d, want 2", n)
	}
	type kv struct {
		k string
		v []byte
	}
	var log []kv
	a.Checkpoint(func(_ int32, k, v []byte) { log = append(log, kv{string(k), v}) })

	b, err := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range log {
		if err := b.Restore(0, []byte(r.k), r.v); err != nil {
			t.Fatal(err)
		}
	}
	e1 := det(1, F, "leaf1", mOper, "name=e1", "link_down")
	var merged bool
	for _, u := range updates(t, b, e1) {
		merged = merged || u.in.MergedInto != ""
	}
	b.Committed(1)
	if !merged {
		t.Fatal("setup: leaf1:e1 merged nothing")
	}
	if n := b.Opened(); n != 0 {
		t.Errorf("second process, which opened no incident: Opened() = %d (the summary's incident count), want 0", n)
	}

	// The first process, had it gone on, counts the merge of its own.
	process(t, a, e1)
	a.Committed(1)
	if n := a.Opened(); n != 1 {
		t.Errorf("first process, after one of its two incidents merged into the other: Opened() = %d, want 1", n)
	}
	if n := len(a.parts[0].mine); n != 1 {
		t.Errorf("first process remembers %d incidents of its own, want 1 (the survivor)", n)
	}
}

// TestOpenedForgetsExpired: the incidents a process remembers opening (to
// count their merges) are forgotten with the engine's, at the checkpoint
// that writes their tombstones, so the memory does not grow for ever.
func TestOpenedForgetsExpired(t *testing.T) {
	c, err := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	process(t, c, det(0, schemas.StateFiring, "leaf1", mTemp, "name=CPU0", "robust_z"))
	process(t, c, det(1, schemas.StateResolved, "leaf1", mTemp, "name=CPU0", "robust_z"))
	c.Checkpoint(func(int32, []byte, []byte) {})
	if n := len(c.parts[0].mine); n != 1 {
		t.Fatalf("%d incidents remembered while the engine holds the resolved one, want 1", n)
	}
	process(t, c, det(24*3600, schemas.StateFiring, "spine1", mTemp, "name=CPU0", "robust_z")) // a day later: the first is forgotten
	c.Checkpoint(func(int32, []byte, []byte) {})
	p := c.parts[0]
	if len(p.mine) != 1 || len(p.mineKeys) != 1 {
		t.Errorf("%d incidents (%d keys) remembered after the first expired, want 1 (the new one)", len(p.mine), len(p.mineKeys))
	}
	c.Committed(3)
	if n := c.Opened(); n != 2 {
		t.Errorf("Opened() = %d, want 2", n)
	}
}
