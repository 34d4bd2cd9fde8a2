package alertmanager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

// TestAlertmanagerResolvesDeviceAheadOfClock: a resolved detection of a
// device whose clock runs a few seconds ahead of the bridge's (its endsAt,
// device time, is still in the future when the bridge posts it) resolves
// the alert in a real Alertmanager by the time that endsAt has passed.
// Before, Alertmanager took such a post as still firing and merged it
// with the firing post's later endsAt (now + 4 × resend_interval), so the
// alert stayed active for minutes after it was resolved.
func TestAlertmanagerResolvesDeviceAheadOfClock(t *testing.T) {
	base := testenv.Service(t, "TK_ALERTMANAGER")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	device := "it-skew-" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	s := newSink(t, Config{URL: base, Timeout: 5 * time.Second})
	const ahead = 2 * time.Second // the device's clock is this far ahead
	now := time.Now().UTC().Truncate(time.Millisecond)
	firing := detection(device, schemas.StateFiring, schemas.SeverityCritical)
	firing.StartsAt, firing.EventTime, firing.DetectedAt = now.Add(-time.Minute+ahead), now.Add(-time.Minute+ahead), now
	if err := s.Add(ctx, record(t, firing)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil && len(alertsFor(t, base, device)) != 1 {
		time.Sleep(100 * time.Millisecond)
	}

	resolved := detection(device, schemas.StateResolved, schemas.SeverityCritical)
	now = time.Now().UTC()
	end := now.Add(ahead)
	resolved.StartsAt, resolved.EndsAt, resolved.EventTime, resolved.DetectedAt = firing.StartsAt, &end, end, now
	if err := s.Add(ctx, record(t, resolved)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(end) + 2*time.Second)
	if got := alertsFor(t, base, device); len(got) != 0 {
		t.Fatalf("alerts of %s %v after its resolution: %+v, want none active", device, time.Since(end), got)
	}
}

// TestResolvedEndsAtNotAfterNow: a resolved detection (or incident) whose
// endsAt is still ahead of the bridge's clock is posted with endsAt now,
// and a startsAt no later than that; one whose endsAt has passed keeps it.
// Before, the endsAt ahead was posted as it was, which Alertmanager reads
// as firing.
func TestResolvedEndsAtNotAfterNow(t *testing.T) {
	am := newFakeAM(t)
	now := t0.Add(5 * time.Minute)
	clk := &clock{t: now}
	s := newSink(t, Config{URL: am.URL}, WithClock(clk.now))
	ahead := detection("ahead", schemas.StateResolved, schemas.SeverityWarning) // ends t0+10m
	farAhead := detection("far", schemas.StateResolved, schemas.SeverityWarning)
	farAhead.StartsAt = t0.Add(7 * time.Minute)
	past := detection("past", schemas.StateResolved, schemas.SeverityWarning)
	end := t0.Add(4 * time.Minute)
	past.EndsAt, past.EventTime = &end, end
	for _, d := range []*schemas.Detection{ahead, farAhead, past} {
		add(t, s, d)
	}
	flush(t, s, 3)
	got := am.received()
	if len(got) != 1 || len(got[0]) != 3 {
		t.Fatalf("posts %+v", got)
	}
	for i, want := range [][2]time.Time{{t0, now}, {now, now}, {t0, end}} {
		if a := got[0][i]; !a.StartsAt.Equal(want[0]) || !a.EndsAt.Equal(want[1]) {
			t.Errorf("%s: startsAt %v endsAt %v, want %v %v", a.Labels["device"], a.StartsAt, a.EndsAt, want[0], want[1])
		}
	}
}
