package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/schemas"
)

func TestIntegrationEnsureTablesIdempotent(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := s.EnsureTables(ctx); err != nil {
			t.Fatalf("EnsureTables #%d: %v", i+1, err)
		}
	}
	v, err := s.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	want := schemas.ChooseLayout(v)
	for _, table := range []string{schemas.TableSamples, schemas.TableDetections} {
		l, err := s.layout(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		if l != want {
			t.Errorf("%s has layout %v, server %v should get %v", table, l, v, want)
		}
	}
	n, err := s.Count(ctx, schemas.TableSchemaVersion)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("schema_version has %d rows after EnsureTables twice, want 2", n)
	}
	var raw uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.db+".schema_version").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != 2 {
		t.Errorf("schema_version has %d raw rows after EnsureTables twice, want 2 (second run must not re-record)", raw)
	}
	t.Logf("server %v, layout %v", v, want)
}

func TestIntegrationLayoutVersionCheck(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	// A later build recorded layout version 2: this build must refuse.
	b, err := s.conn.PrepareBatch(ctx, insertStatement(s.db, schemas.TableSchemaVersion, schemas.ClickHouseColumns(schemas.TableSchemaVersion, schemas.LayoutLegacy)))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(schemas.TableSamples, uint32(schemas.ClickHouseSchemaVersion+1), "modern", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	err = s.EnsureTables(ctx)
	if !errors.Is(err, ErrSchemaMismatch) || IsRetryable(err) {
		t.Fatalf("EnsureTables with a newer recorded layout: %v; want ErrSchemaMismatch, not retryable", err)
	}
	t.Log(err)
}

// readSamples reads the samples table back in sort-key order.
func readSamples(t *testing.T, s *Sink) []schemas.Sample {
	t.Helper()
	ctx := context.Background()
	l, err := s.layout(ctx, schemas.TableSamples)
	if err != nil {
		t.Fatal(err)
	}
	frac := "toUInt32(0)"
	if l == schemas.LayoutLegacy {
		frac = "ts_frac"
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf(
		"SELECT ts, %s, device, metric, keys, kind, value_u64, value_f64, value_str, source FROM %s.samples FINAL", frac, s.db))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []schemas.Sample
	for rows.Next() {
		var (
			ts   time.Time
			fr   uint32
			smp  schemas.Sample
			kind uint8
			u    *uint64
			f    *float64
			str  *string
		)
		if err := rows.Scan(&ts, &fr, &smp.Device, &smp.Metric, &smp.Keys, &kind, &u, &f, &str, &smp.Source); err != nil {
			t.Fatal(err)
		}
		smp.TS = ts.UnixNano() + int64(fr)
		smp.Kind = schemas.Kind(kind)
		// Exactly one value is set, matching the kind.
		switch {
		case smp.Kind == schemas.KindCounter && u != nil && f == nil && str == nil:
			smp.U64 = *u
		case smp.Kind == schemas.KindGauge && u == nil && f != nil && str == nil:
			smp.F64 = *f
		case smp.Kind == schemas.KindState && u == nil && f == nil && str != nil:
			smp.Str = *str
		default:
			t.Fatalf("row %+v: values u64=%v f64=%v str=%v do not match kind", smp, u, f, str)
		}
		out = append(out, smp)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sortSamples(out)
	return out
}

func TestIntegrationSamplesRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newTestSink(t, func(c *Config) { c.BatchRows = 1000 }) // several blocks per INSERT
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	want := fleet(8, 4, 60)
	recs := records(mem, want, 700)
	defer release(recs)
	sortSamples(want)

	n, err := s.InsertSamples(ctx, recs)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("InsertSamples wrote %d rows, want %d", n, len(want))
	}
	if c, err := s.Count(ctx, schemas.TableSamples); err != nil || c != uint64(len(want)) {
		t.Fatalf("Count = %d, %v; want %d", c, err, len(want))
	}
	got := readSamples(t, s)
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("row %d differs:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
		t.Fatalf("read %d rows, want %d", len(got), len(want))
	}

	// The server itself holds counters above 2^53 exactly.
	var big, maxU uint64
	var exact string
	if err := s.conn.QueryRow(ctx, fmt.Sprintf("SELECT countIf(value_u64 > 9007199254740992), max(value_u64), toString(max(value_u64)) FROM %s.samples", s.db)).Scan(&big, &maxU, &exact); err != nil {
		t.Fatal(err)
	}
	var wantBig, wantMax uint64
	for _, smp := range want {
		if smp.Kind == schemas.KindCounter {
			if smp.U64 > 1<<53 {
				wantBig++
			}
			wantMax = max(wantMax, smp.U64)
		}
	}
	if big != wantBig || maxU != wantMax || exact != strconv.FormatUint(wantMax, 10) {
		t.Errorf("server: %d counters > 2^53, max %d (%s); want %d, %d", big, maxU, exact, wantBig, wantMax)
	}
	if wantMax < math.MaxUint64-1<<41 {
		t.Errorf("test data should reach near 2^64, max is %d", wantMax)
	}

	// Re-delivery: the same records again collapse.
	if _, err := s.InsertSamples(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var raw uint64
	rawCount := func() uint64 {
		t.Helper()
		if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.db+".samples").Scan(&raw); err != nil {
			t.Fatal(err)
		}
		return raw
	}
	if c, err := s.Count(ctx, schemas.TableSamples); err != nil || c != uint64(len(want)) {
		t.Errorf("after re-delivery Count (FINAL) = %d, %v; want %d", c, err, len(want))
	}
	if r := rawCount(); r != 2*uint64(len(want)) {
		t.Logf("raw count before merge: %d (parts may have merged already)", r)
	}
	if err := s.conn.Exec(ctx, "OPTIMIZE TABLE "+s.db+".samples FINAL"); err != nil {
		t.Fatal(err)
	}
	if r := rawCount(); r != uint64(len(want)) {
		t.Errorf("after OPTIMIZE FINAL raw count = %d, want %d", r, len(want))
	}
	if got := readSamples(t, s); !reflect.DeepEqual(got, want) {
		t.Error("rows differ after re-delivery and merge")
	}
}

// readDetections reads the detections table back ordered by id.
func readDetections(t *testing.T, s *Sink) []schemas.Detection {
	t.Helper()
	ctx := context.Background()
	l, err := s.layout(ctx, schemas.TableDetections)
	if err != nil {
		t.Fatal(err)
	}
	frac := func(c string) string {
		if l == schemas.LayoutLegacy {
			return c + "_frac"
		}
		return "toUInt32(0)"
	}
	endsFrac := "CAST(NULL AS Nullable(UInt32))"
	if l == schemas.LayoutLegacy {
		endsFrac = "ends_at_frac"
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT id, version, event_time, %s, detected_at, %s, state, device, metric, keys,
		detector, detectors, score, severity, observed, expected, band_lower, band_upper, starts_at, %s, ends_at, %s,
		fingerprint, labels, annotations FROM %s.detections FINAL ORDER BY id`,
		frac("event_time"), frac("detected_at"), frac("starts_at"), endsFrac, s.db))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []schemas.Detection
	for rows.Next() {
		var (
			d                   schemas.Detection
			version             uint8
			ev, det, st         time.Time
			evF, detF, stF      uint32
			ends                *time.Time
			endsF               *uint32
			labels, annotations string
		)
		if err := rows.Scan(&d.ID, &version, &ev, &evF, &det, &detF, &d.State, &d.Device, &d.Metric, &d.Keys,
			&d.Detector, &d.Detectors, &d.Score, &d.Severity, &d.Observed, &d.Expected, &d.Band.Lower, &d.Band.Upper,
			&st, &stF, &ends, &endsF, &d.Fingerprint, &labels, &annotations); err != nil {
			t.Fatal(err)
		}
		d.Version = int(version)
		d.EventTime = ev.Add(time.Duration(evF)).UTC()
		d.DetectedAt = det.Add(time.Duration(detF)).UTC()
		d.StartsAt = st.Add(time.Duration(stF)).UTC()
		if ends != nil {
			e := ends.UTC()
			if endsF != nil {
				e = e.Add(time.Duration(*endsF))
			}
			d.EndsAt = &e
		}
		d.Labels, d.Annotations = parseJSONObject(t, labels), parseJSONObject(t, annotations)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// normDetections makes detections comparable with what the table returns:
// times in UTC, nil slices and maps as empty ones.
func normDetections(ds []schemas.Detection) []schemas.Detection {
	out := make([]schemas.Detection, len(ds))
	for i, d := range ds {
		d.EventTime, d.DetectedAt, d.StartsAt = d.EventTime.UTC(), d.DetectedAt.UTC(), d.StartsAt.UTC()
		if d.EndsAt != nil {
			e := d.EndsAt.UTC()
			d.EndsAt = &e
		}
		if d.Detectors == nil {
			d.Detectors = []string{}
		}
		if d.Labels == nil {
			d.Labels = map[string]string{}
		}
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		out[i] = d
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func TestIntegrationDetectionsRoundTrip(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	ds := testDetections(300)
	n, err := s.InsertDetections(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(ds) {
		t.Fatalf("InsertDetections wrote %d, want %d", n, len(ds))
	}
	want := normDetections(ds)
	got := readDetections(t, s)
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got), len(want)) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("detection %d differs:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
		t.Fatalf("read %d detections, want %d", len(got), len(want))
	}
	// Re-delivery of part of the batch.
	if _, err := s.InsertDetections(ctx, ds[100:200]); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Count(ctx, schemas.TableDetections); err != nil || c != uint64(len(ds)) {
		t.Errorf("after re-delivery Count = %d, %v; want %d", c, err, len(ds))
	}
	if err := s.conn.Exec(ctx, "OPTIMIZE TABLE "+s.db+".detections FINAL"); err != nil {
		t.Fatal(err)
	}
	var raw uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.db+".detections").Scan(&raw); err != nil || raw != uint64(len(ds)) {
		t.Errorf("after OPTIMIZE FINAL raw count = %d, %v; want %d", raw, err, len(ds))
	}
}

func TestIntegrationBadInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	check := func(what string, n int, err error) {
		t.Helper()
		if !errors.Is(err, ErrBadInput) || IsRetryable(err) || n != 0 {
			t.Errorf("%s: n=%d err=%v; want ErrBadInput, not retryable", what, n, err)
		}
	}
	bad := testDetections(3)
	bad[1].Score = 2
	n, err := s.InsertDetections(ctx, bad)
	check("invalid detection", n, err)

	l, _ := s.layout(ctx, schemas.TableSamples)
	if l == schemas.LayoutLegacy {
		recs := records(mem, []schemas.Sample{
			{TS: testDay.UnixNano(), Device: "d", Metric: "m", Kind: schemas.KindGauge, F64: 1, Source: "sim"},
			{TS: -1, Device: "d", Metric: "m", Kind: schemas.KindGauge, F64: 1, Source: "sim"},
		}, 10)
		n, err = s.InsertSamples(ctx, recs)
		release(recs)
		check("pre-1970 sample on the legacy layout", n, err)
	}
	if c, err := s.Count(ctx, schemas.TableSamples); err != nil || c != 0 {
		t.Errorf("bad input wrote rows: %d, %v", c, err)
	}
	if c, err := s.Count(ctx, schemas.TableDetections); err != nil || c != 0 {
		t.Errorf("bad input wrote detections: %d, %v", c, err)
	}
	if _, err := s.Count(ctx, "system.tables"); !errors.Is(err, ErrBadInput) {
		t.Errorf("Count of another table: %v", err)
	}
}

func TestIntegrationInsertWithoutTables(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newTestSink(t, nil)
	recs := records(mem, fleet(1, 1, 2), 10)
	defer release(recs)
	_, err := s.InsertSamples(context.Background(), recs)
	if !errors.Is(err, ErrSchemaMismatch) || IsRetryable(err) || !strings.Contains(err.Error(), "EnsureTables") {
		t.Fatalf("insert before EnsureTables: %v", err)
	}
	t.Log(err)
}

func TestIntegrationWrongPassword(t *testing.T) {
	addr := testServerAddr(t)
	start := time.Now()
	t.Setenv("TK_CH_WRONG_PASSWORD", "not-the-password")
	_, err := New(context.Background(), Config{Addr: []string{addr}, Password: secret.Source{Env: "TK_CH_WRONG_PASSWORD"}})
	if err == nil {
		t.Skip("the server accepted any password for user default")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "(check username and password)") ||
		strings.Contains(msg, "not-the-password") || IsRetryable(err) {
		t.Errorf("wrong password: %q (retryable %v)", msg, IsRetryable(err))
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	t.Log(msg)
	// From a file, too, a wrong password stops New with the same line
	// (only a running sink retries a failed login, reading the file again).
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Config{Addr: []string{addr}, Password: secret.Source{File: pw}})
	if err == nil || err.Error() != msg || IsRetryable(err) {
		t.Errorf("wrong password from a file: %v (retryable %v), want %q", err, IsRetryable(err), msg)
	}
}

func TestIntegrationREADMEQueries(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	smp := fleet(12, 4, 60)
	recs := records(mem, smp, 5000)
	defer release(recs)
	// Insert twice: the queries must be exact despite re-delivery.
	for i := 0; i < 2; i++ {
		if _, err := s.InsertSamples(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	dets := testDetections(300)
	for i := 0; i < 2; i++ {
		if _, err := s.InsertDetections(ctx, dets); err != nil {
			t.Fatal(err)
		}
	}
	want := expectedQueryResults(smp, dets)
	names, queries := readmeQueries(t, s.db)
	for _, name := range names {
		rows, err := s.conn.Query(ctx, queries[name])
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, queries[name])
		}
		var got [][]any
		for rows.Next() {
			dest := make([]any, len(rows.ColumnTypes()))
			for i, ct := range rows.ColumnTypes() {
				dest[i] = reflect.New(ct.ScanType()).Interface()
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			row := make([]any, len(dest))
			for i, d := range dest {
				row[i] = reflect.ValueOf(d).Elem().Interface()
			}
			got = append(got, row)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		compareResults(t, name, got, want[name])
		t.Logf("%s: %d rows, first %s", name, len(got), fmtRow(got[0]))
	}
}

// compareResults compares query rows with expected cells: strings and
// times as text, numbers exactly as float64.
func compareResults(t *testing.T, name string, got [][]any, want [][]any) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: no expected rows (bad test data)", name)
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", name, len(got), len(want))
		return
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Errorf("%s row %d: %d columns, want %d", name, i, len(got[i]), len(want[i]))
			continue
		}
		for j := range want[i] {
			if !cellEqual(got[i][j], want[i][j]) {
				t.Errorf("%s row %d col %d: got %v (%T), want %v", name, i, j, got[i][j], got[i][j], want[i][j])
			}
		}
	}
}

func cellEqual(got, want any) bool {
	if v := reflect.ValueOf(got); v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return false
		}
		got = v.Elem().Interface()
	}
	switch w := want.(type) {
	case float64:
		var g float64
		switch v := got.(type) {
		case float64:
			g = v
		case uint64:
			g = float64(v)
		case int64:
			g = float64(v)
		case string:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return false
			}
			g = f
		default:
			f, err := strconv.ParseFloat(fmt.Sprint(v), 64)
			if err != nil {
				return false
			}
			g = f
		}
		return g == w
	case string:
		var g string
		switch v := got.(type) {
		case time.Time:
			g = v.UTC().Format(time.DateTime)
		default:
			g = fmt.Sprint(v)
		}
		// DateTime64 prints fractions: 2026-11-23 00:05:00.000000000.
		if i := strings.IndexByte(g, '.'); i == len(time.DateTime) && strings.Trim(g[i+1:], "0") == "" {
			g = g[:i]
		}
		return g == w
	}
	return false
}

// Forcing the modern layout on an old server fails with the server's own
// reason, and is not retryable.
func TestIntegrationForcedLayout(t *testing.T) {
	s := newTestSink(t, func(c *Config) { c.Layout = "modern" })
	v, _ := s.ServerVersion()
	err := s.EnsureTables(context.Background())
	if schemas.ChooseLayout(v) == schemas.LayoutModern {
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if err == nil || IsRetryable(err) || !strings.Contains(err.Error(), "cannot apply clickhouse ddl (modern layout) statement 2/14") {
		t.Fatalf("modern layout on %v: %v (retryable %v)", v, err, IsRetryable(err))
	}
	t.Log(err)
}

// fmtRow formats a result row with pointers followed.
func fmtRow(row []any) string {
	var b strings.Builder
	for i, c := range row {
		if v := reflect.ValueOf(c); v.Kind() == reflect.Pointer && !v.IsNil() {
			c = v.Elem().Interface()
		}
		if i > 0 {
			b.WriteString(" | ")
		}
		fmt.Fprint(&b, c)
	}
	return b.String()
}

// TestIntegrationRefusedLoginClosesSocket connects 50 times as a user the
// server does not know: each refused handshake's socket is closed.
func TestIntegrationRefusedLoginClosesSocket(t *testing.T) {
	checkNoSocketLeak(t, Config{Addr: []string{testServerAddr(t)}, Username: "tk_no_such_user"}, 50)
}
