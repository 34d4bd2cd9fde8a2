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

	s, buf = sink(0)
	s.cfg.Cluster = "tk"
	s.noteExpired(mixed, schemas.LayoutModern, now)
	if !strings.Contains(buf.String(), "ALTER TABLE telemetry.samples_local ON CLUSTER tk REMOVE TTL") {
		t.Errorf("on a cluster the hint names the local table ON CLUSTER: %s", buf)
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

// TestTTLOf reads a table's retention from its engine_full as modern
// servers render the DDL (TestModernLayoutChDB checks one's real output).
func TestTTLOf(t *testing.T) {
	for _, tc := range []struct {
		engine string
		days   int
		ok     bool
	}{
		{"ReplacingMergeTree PARTITION BY toDate(ts) ORDER BY (device, metric, keys, ts) TTL toDateTime(ts) + toIntervalDay(30) SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1", 30, true},
		{"ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/samples_local', '{replica}') PARTITION BY toDate(ts) ORDER BY (device, metric, keys, ts) TTL toDateTime(ts) + toIntervalDay(7) SETTINGS index_granularity = 8192", 7, true},
		{"ReplacingMergeTree ORDER BY ts TTL toDateTime(ts) + INTERVAL 400 DAY", 400, true},
		{"ReplacingMergeTree PARTITION BY toDate(ts) ORDER BY (device, metric, keys, ts) SETTINGS index_granularity = 8192", 0, true},
		{"ReplacingMergeTree ORDER BY ts TTL toDateTime(ts) + toIntervalMonth(1)", 0, false},
		{"ReplacingMergeTree ORDER BY ts TTL toDateTime(ts) + toIntervalDay(30) TO VOLUME 'cold'", 30, true},
	} {
		days, ok := ttlOf(tc.engine)
		if days != tc.days || ok != tc.ok {
			t.Errorf("ttlOf(%q) = %d, %v; want %d, %v", tc.engine, days, ok, tc.days, tc.ok)
		}
	}
}

// TestTableTTLTaken: the samples table's own TTL, once read, is the
// retention the expiry warning measures by, and one that is not what
// ttl_days asks (changed after the table was created) gets one WARN line
// with the ALTER TABLE that applies ttl_days, ON CLUSTER on a cluster; the
// same TTL read again (Apply again) warns no more, and a TTL of another
// form leaves ttl_days in use.
func TestTableTTLTaken(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tenDays := oneKind(schemas.KindGauge, 3)
	for i := range tenDays {
		tenDays[i].TS = now.AddDate(0, 0, -10).UnixNano()
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := records(mem, tenDays, 3)
	defer release(recs)
	const seven = "ReplacingMergeTree ORDER BY ts TTL toDateTime(ts) + toIntervalDay(7) SETTINGS index_granularity = 8192"

	var buf bytes.Buffer
	s := &Sink{cfg: Config{Database: "telemetry"}, log: slog.New(slog.NewTextHandler(&buf, nil))} // ttl_days: the default 30
	s.takeTTL("samples", "", seven)
	line := buf.String()
	for _, want := range []string{"level=WARN", "table=telemetry.samples", "table_ttl_days=7", "ttl_days=30",
		"ALTER TABLE telemetry.samples MODIFY TTL toDateTime(ts) + INTERVAL 30 DAY"} {
		if !strings.Contains(line, want) {
			t.Errorf("the line lacks %q: %s", want, line)
		}
	}
	s.takeTTL("samples", "", seven)
	if n := strings.Count(buf.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings after the same TTL read twice, want 1:\n%s", n, buf.String())
	}
	buf.Reset()
	s.noteExpired(recs, schemas.LayoutModern, now) // 10 days old: past the table's 7, within ttl_days' 30
	if !strings.Contains(buf.String(), "rows=3 ") || !strings.Contains(buf.String(), "ttl_days=7") {
		t.Errorf("rows past the table's own TTL: %q", buf.String())
	}

	buf.Reset()
	s = &Sink{cfg: Config{Database: "telemetry", TTLDays: -1, Cluster: "tk"}, log: slog.New(slog.NewTextHandler(&buf, nil))}
	s.takeTTL("samples_local", " ON CLUSTER tk", seven)
	if !strings.Contains(buf.String(), "ALTER TABLE telemetry.samples_local ON CLUSTER tk REMOVE TTL") {
		t.Errorf("ttl_days -1 on a cluster: %q", buf.String())
	}

	buf.Reset()
	s = &Sink{cfg: Config{Database: "telemetry", TTLDays: 7}, log: slog.New(slog.NewTextHandler(&buf, nil))}
	s.takeTTL("samples", "", seven)
	if strings.Contains(buf.String(), "level=WARN") {
		t.Errorf("the table's TTL is ttl_days': warned %q", buf.String())
	}
	s = &Sink{cfg: Config{Database: "telemetry", TTLDays: 5}, log: slog.New(slog.NewTextHandler(&buf, nil))}
	s.takeTTL("samples", "", "ReplacingMergeTree ORDER BY ts TTL toDateTime(ts) + toIntervalMonth(1)")
	if strings.Contains(buf.String(), "level=WARN") || s.ttlDays(schemas.LayoutModern) != 5 {
		t.Errorf("a TTL of another form: warned %q, retention %d days, want ttl_days' 5", buf.String(), s.ttlDays(schemas.LayoutModern))
	}
}
