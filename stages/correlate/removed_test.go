package correlate

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/inventory"
)

// TestDeviceRemovedStage: leaf2 is decommissioned while its link_down
// fires, so its resolution never comes. Once the inventory no longer
// lists leaf2, the next detection publishes its incident resolved,
// "device removed", counted by reason; the same when the partition's
// state is restored from the changelog into a stage that only ever had
// the new inventory (a restart or a rebalance at the wrong moment),
// before and after the cut of the transaction that removed it.
func TestDeviceRemovedStage(t *testing.T) {
	old := testInventory()
	old.Devices = append(old.Devices, schemas.Device{Name: "leaf2", Site: "fra1", Role: "leaf"})
	F := schemas.StateFiring
	down := det(0, F, "leaf2", mOper, "name=e1", "link_down")
	later := det(86400, F, "spine1", mTemp, "name=CPU0", "ewma")

	check := func(name string, c *Stage, up []update) {
		t.Helper()
		var got *schemas.Incident
		for _, u := range up {
			if u.in.ID == incidents.ID(down) {
				got = u.in
			}
		}
		if got == nil || got.State != schemas.IncidentResolved || !strings.Contains(got.Cause, "resolved: device leaf2 removed from the inventory") {
			t.Errorf("%s: leaf2's incident at the next detection: %+v, want it resolved, device removed", name, got)
		}
		if n := testutil.ToFloat64(c.updates.closed.WithLabelValues(incidents.ClosedDeviceRemoved)); n != 1 {
			t.Errorf("%s: closed{reason=device_removed} = %v, want 1", name, n)
		}
		if n := c.parts[0].e.OpenCount(); n != 1 {
			t.Errorf("%s: %d incidents open, want 1 (spine1's)", name, n)
		}
	}

	// Live: the inventory topic drops leaf2.
	v := inventory.Fixed(old)
	c, err := New(Config{}, v, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	updates(t, c, down)
	v.SetLive(testInventory())
	check("live", c, updates(t, c, later))

	// Restored: the changelog of a stage that had leaf2, read by one that
	// never did.
	first, _ := New(Config{}, inventory.Fixed(old), nil, slog.New(slog.DiscardHandler))
	updates(t, first, down)
	type rec struct{ k, v []byte }
	var log []rec
	first.Checkpoint(func(_ int32, k, v []byte) { log = append(log, rec{k, v}) })
	again, _ := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	for _, r := range log {
		if err := again.Restore(0, r.k, r.v); err != nil {
			t.Fatal(err)
		}
	}
	up := updates(t, again, later)
	check("restored", again, up)
	// The resolution it wrote survives the next restore: leaf2's incident
	// stays resolved, and is not published again.
	again.Checkpoint(func(_ int32, k, v []byte) { log = append(log, rec{k, v}) })
	third, _ := New(Config{}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	for _, r := range log {
		if err := third.Restore(0, r.k, r.v); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range updates(t, third, det(86460, F, "spine1", mTemp, "name=CPU1", "ewma")) {
		if u.in.ID == incidents.ID(down) {
			t.Errorf("restored after the removal: leaf2's incident published again (%s)", u.in.State)
		}
	}
	if n := testutil.ToFloat64(third.updates.closed.WithLabelValues(incidents.ClosedDeviceRemoved)); n != 0 {
		t.Errorf("restored after the removal: closed again %v times", n)
	}
}

// TestStaleStage: with engine.stale_after 1h, an incident without
// evidence for a day is published resolved, stale, at the next detection,
// and counted by reason.
func TestStaleStage(t *testing.T) {
	c, err := New(Config{Engine: incidents.Config{StaleAfter: time.Hour}}, inventory.Fixed(testInventory()), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	down := det(0, schemas.StateFiring, "leaf1", mOper, "name=e1", "link_down")
	updates(t, c, down)
	up := updates(t, c, det(86400, schemas.StateFiring, "spine1", mTemp, "name=CPU0", "ewma"))
	if len(up) != 2 || up[0].in.ID != incidents.ID(down) || up[0].in.State != schemas.IncidentResolved ||
		!up[0].in.ResolvedAt.Equal(t0.Add(time.Hour)) || !strings.HasSuffix(up[0].in.Cause, "; resolved: no evidence for 1h0m0s") {
		t.Fatalf("%d updates, the first %+v; want leaf1's incident resolved at %v, stale, then spine1's", len(up), up[0].in, t0.Add(time.Hour))
	}
	if n := testutil.ToFloat64(c.updates.closed.WithLabelValues(incidents.ClosedStale)); n != 1 {
		t.Errorf("closed{reason=stale} = %v, want 1", n)
	}
}

// TestStaleResolutionDroppedCounted: with engine.stale_after 1h, the
// resolution of a link that went stale and was forgotten since (more than
// stale_after after it was found stale) is dropped with its own reason and
// log line, not as the resolution of an alert whose firing came before
// the partition's state began. The resolution of one found stale minutes
// before joins its incident.
func TestStaleResolutionDroppedCounted(t *testing.T) {
	var logged bytes.Buffer
	c, err := New(Config{Engine: incidents.Config{StaleAfter: time.Hour}}, inventory.Fixed(testInventory()), nil, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	down := det(0, schemas.StateFiring, "leaf1", mOper, "name=e1", "link_down")
	updates(t, c, down)
	updates(t, c, det(86400, schemas.StateFiring, "spine1", mTemp, "name=CPU0", "ewma")) // finds it stale
	updates(t, c, det(86400+4*3600, schemas.StateFiring, "spine1", mOper, "name=e3", "link_down"))
	up := det(86400+4*3600+60, schemas.StateResolved, "leaf1", mOper, "name=e1", "link_down")
	up.StartsAt = down.EventTime
	if got := updates(t, c, up); len(got) != 0 {
		t.Errorf("%d updates for the resolution of a link found stale 4h before, want none", len(got))
	}
	if n := testutil.ToFloat64(c.updates.dropped.WithLabelValues(ReasonStaleAlert)); n != 1 {
		t.Errorf("dropped{reason=%s} = %v, want 1", ReasonStaleAlert, n)
	}
	if n := testutil.ToFloat64(c.updates.dropped.WithLabelValues(ReasonUnknownAlert)); n != 0 {
		t.Errorf("dropped{reason=%s} = %v, want 0", ReasonUnknownAlert, n)
	}
	if !strings.Contains(logged.String(), "fired longer than engine.stale_after before") || strings.Contains(logged.String(), "before the partition's state began,") {
		t.Errorf("logged:\n%s\nwant the stale reason", logged.String())
	}
}
