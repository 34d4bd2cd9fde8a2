package clickhouse

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// TestExpiredSamplesWarned: samples stored past the samples table's
// retention (a replayed capture) give one WARN line naming the oldest row
// and what to do; more such inserts within expiryEvery add to the next
// line; rows within the retention, the legacy layout (no TTL) and
// ttl_days -1 give none.
func TestExpiredSamplesWarned(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	old := oneKind(schemas.KindCounter, 6) // 40 days before now
	for i := range old {
		old[i].TS = now.AddDate(0, 0, -40).Add(time.Duration(i) * time.Second).UnixNano()
	}
	old[4].TS = now.AddDate(-9, 0, 0).UnixNano() // the oldest: edge1, nine years back
	fresh := oneKind(schemas.KindGauge, 5)
	for i := range fresh {
		fresh[i].TS = now.Add(-time.Duration(i) * time.Hour).UnixNano()
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	mixed := records(mem, append(append([]schemas.Sample{}, fresh...), old...), 4)
	defer release(mixed)
	recent := records(mem, fresh, 5)
	defer release(recent)

	sink := func(ttl int) (*Sink, *bytes.Buffer) {
		var buf bytes.Buffer
		return &Sink{cfg: Config{Database: "telemetry", TTLDays: ttl}, log: slog.New(slog.NewTextHandler(&buf, nil))}, &buf
	}
	lines := func(buf *bytes.Buffer) []string {
		return strings.FieldsFunc(buf.String(), func(r rune) bool { return r == '\n' })
	}

	s, buf := sink(0)
	s.noteExpired(recent, schemas.LayoutModern, now)
	if buf.Len() != 0 {
		t.Fatalf("rows within the retention logged: %s", buf)
	}
	s.noteExpired(mixed, schemas.LayoutModern, now)
	got := lines(buf)
	if len(got) != 1 {
		t.Fatalf("want one line, got %q", got)
	}
	for _, want := range []string{"level=WARN", "rows=6", "rows_total=6", "ttl_days=30", "oldest=2017-12-06T12:00:00Z", "device=edge1",
		"metric=" + metricInOctets, "clickhouse.ttl_days: -1", "ALTER TABLE telemetry.samples REMOVE TTL"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("the line lacks %q: %s", want, got[0])
		}
	}
	s.noteExpired(mixed, schemas.LayoutModern, now.Add(time.Minute))
	s.noteExpired(mixed, schemas.LayoutModern, now.Add(2*time.Minute))
	if got := lines(buf); len(got) != 1 {
		t.Fatalf("logged again within %v: %q", expiryEvery, got[1:])
	}
	s.noteExpired(mixed, schemas.LayoutModern, now.Add(expiryEvery+time.Minute))
	if got := lines(buf); len(got) != 2 || !strings.Contains(got[1], "rows=18") || !strings.Contains(got[1], "rows_total=24") {
		t.Fatalf("want a second line with the 18 rows since the first, 24 in all: %q", got)
	}

	s, buf = sink(45)
	s.noteExpired(mixed, schemas.LayoutModern, now)
	if got := lines(buf); len(got) != 1 || !strings.Contains(got[0], "rows=1 ") || !strings.Contains(got[0], "ttl_days=45") {
		t.Fatalf("ttl_days 45: want one line for the nine-year-old row only: %q", got)
	}
	for _, tc := range []struct {
		ttl int
		l   schemas.Layout
	}{{-1, schemas.LayoutModern}, {0, schemas.LayoutLegacy}} {
		s, buf := sink(tc.ttl)
		s.noteExpired(mixed, tc.l, now)
		if buf.Len() != 0 {
			t.Errorf("ttl_days %d, %s layout: no retention, but logged %s", tc.ttl, tc.l, buf)
		}
	}
}
