package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// docsQueries returns the example queries of docs/analysts.md by name, in
// order, with the database telekernel replaced by db.
func docsQueries(t testing.TB, db string) (names []string, queries map[string]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "analysts.md"))
	if err != nil {
		t.Fatal(err)
	}
	queries = map[string]string{}
	for _, m := range sqlBlock.FindAllStringSubmatch(string(b), -1) {
		names = append(names, m[2])
		queries[m[2]] = strings.ReplaceAll(m[1], "telekernel.", db+".")
	}
	if len(names) < 10 {
		t.Fatalf("docs/analysts.md has %d example queries (%v), want at least 10", len(names), names)
	}
	return names, queries
}

var timeFilter = regexp.MustCompile(`\$__timeFilter\(([a-z_]+)\)`)

// grafanaQueries returns the queries of the Grafana dashboard
// (deploy/grafana/telekernel.json), as "grafana-<panel id>" and
// "grafana-var-<name>", with the plugin's macros and the device variable
// expanded for the test day and devices, and telekernel replaced by db.
func grafanaQueries(t testing.TB, db string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "telekernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			ID      int
			Title   string
			Targets []struct {
				RawSQL     string `json:"rawSql"`
				Datasource struct{ Type string }
			}
		}
		Templating struct {
			List []struct {
				Name, Type, Query string
			}
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("deploy/grafana/telekernel.json: %v", err)
	}
	expand := func(q string) string {
		q = timeFilter.ReplaceAllString(q, "$1 >= toDateTime('2026-11-23 00:00:00', 'UTC') AND $1 < toDateTime('2026-11-24 00:00:00', 'UTC')")
		q = strings.ReplaceAll(q, "${device:singlequote}", "'edge1','edge2','edge3','edge4'")
		if strings.Contains(q, "$") {
			t.Errorf("grafana query keeps an unexpanded macro or variable:\n%s", q)
		}
		return strings.ReplaceAll(q, "telekernel.", db+".")
	}
	out := map[string]string{}
	for _, p := range dash.Panels {
		if len(p.Targets) != 1 || p.Targets[0].Datasource.Type != "grafana-clickhouse-datasource" {
			t.Errorf("panel %d %q: want one target of the ClickHouse data source", p.ID, p.Title)
			continue
		}
		out[fmt.Sprintf("grafana-%d", p.ID)] = expand(p.Targets[0].RawSQL)
	}
	for _, v := range dash.Templating.List {
		if v.Type == "query" {
			out["grafana-var-"+v.Name] = expand(v.Query)
		}
	}
	if len(out) < 8 {
		t.Errorf("the dashboard has %d queries", len(out))
	}
	return out
}

// docsRow is one row to insert, by column name, as SQL literals. Time
// columns hold 'YYYY-MM-DD hh:mm:ss' (whole seconds, so results print the
// same on both layouts); on the legacy layout their *_frac sibling is 0,
// or NULL when the time is NULL.
type docsRow map[string]string

func q(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'" }

func at(t time.Time) string { return q(t.UTC().Format("2006-01-02 15:04:05")) }

// docsInserts returns INSERT statements of the docs test data for tables in
// layout l.
func docsInserts(db string, l schemas.Layout) []string {
	day := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	data := map[string][]docsRow{}
	const in, oper, temp = metricInOctets, metricOper, metricTemp
	for d := 1; d <= 4; d++ {
		dev := fmt.Sprintf("edge%d", d)
		src := "gnmi"
		if d%2 == 0 {
			src = "snmp"
		}
		for i := 1; i <= 2; i++ {
			keys := fmt.Sprintf("name=Ethernet%d", i)
			ctr := uint64(1)<<50 + uint64(d*i)*1_000_000_007
			for k := 0; k < 240; k++ {
				ts := day.Add(time.Duration(k) * 30 * time.Second)
				ctr += uint64(d*i)*30_000_000 + uint64((k*7919)%100_000)
				if d == 2 && i == 1 && k == 100 {
					ctr = 12345 // the device restarted: the counter starts again
				}
				data[schemas.TableSamples] = append(data[schemas.TableSamples], docsRow{"ts": at(ts), "device": q(dev), "metric": q(in), "keys": q(keys),
					"kind": "1", "value_u64": strconv.FormatUint(ctr, 10), "value_f64": "NULL", "value_str": "NULL", "source": q(src)})
				if k%20 == 0 {
					st := "UP"
					if d == 3 && i == 2 && (k == 40 || k == 60) {
						st = "DOWN"
					}
					data[schemas.TableSamples] = append(data[schemas.TableSamples], docsRow{"ts": at(ts.Add(time.Second)), "device": q(dev), "metric": q(oper), "keys": q(keys),
						"kind": "3", "value_u64": "NULL", "value_f64": "NULL", "value_str": q(st), "source": q(src)})
				}
			}
		}
		for k := 0; k < 240; k++ {
			ts := day.Add(time.Duration(k)*30*time.Second + 2*time.Second)
			data[schemas.TableSamples] = append(data[schemas.TableSamples], docsRow{"ts": at(ts), "device": q(dev), "metric": q(temp), "keys": q("name=CPU0"),
				"kind": "2", "value_u64": "NULL", "value_f64": strconv.FormatFloat(40+float64(d)+float64(k%7)*0.5, 'f', -1, 64), "value_str": "NULL", "source": q(src)})
		}
		// Power: 5-minute windows; edge1 and edge2 report PSU power.
		for w := 0; w < 24; w++ {
			ws := day.Add(time.Duration(w) * 5 * time.Minute)
			modelled := 300 + 20*float64(d) + float64(w%5)
			measured := "NULL"
			energy := modelled * 5 / 60
			if d <= 2 {
				m := modelled + 3
				measured, energy = strconv.FormatFloat(m, 'f', -1, 64), m*5/60
			}
			base := docsRow{"window_start": at(ws), "window_end": at(ws.Add(5 * time.Minute)), "device": q(dev), "model": q("7280R3"),
				"measured_w": "NULL", "utilisation": "NULL", "speed_bps": "NULL", "reason": "NULL", "residual_z": "NULL",
				"samples": "0", "fit_points": "1000", "detail": "NULL", "component": q("")}
			row := func(kind string, set docsRow) docsRow {
				r := docsRow{"row": q(kind)}
				for k, v := range base {
					r[k] = v
				}
				for k, v := range set {
					r[k] = v
				}
				return r
			}
			data[schemas.TablePower] = append(data[schemas.TablePower],
				row("device", docsRow{"measured_w": measured, "modelled_w": fmt.Sprint(modelled), "energy_wh": fmt.Sprint(energy), "samples": "10", "residual_z": "0.5"}),
				row("chassis", docsRow{"modelled_w": "250", "energy_wh": fmt.Sprint(250.0 * 5 / 60)}))
			for i := 1; i <= 2; i++ {
				util := float64((d*i*7+w*3)%100) / 100
				data[schemas.TablePower] = append(data[schemas.TablePower], row("port", docsRow{"component": q(fmt.Sprintf("name=Ethernet%d", i)),
					"modelled_w": "4.5", "energy_wh": "0.375", "utilisation": fmt.Sprint(util), "speed_bps": "100000000000"}))
			}
			if d == 4 || (d == 3 && w == 23) {
				data[schemas.TablePower] = append(data[schemas.TablePower], row("saving", docsRow{"component": q("name=Ethernet2"),
					"modelled_w": "2.5", "energy_wh": fmt.Sprint(2.5 * 5 / 60), "speed_bps": "100000000000",
					"reason": q(schemas.SavingAdminUpOperDown), "detail": q("Ethernet2 is up but has no link: shut it down")}))
			}
		}
	}
	// Detections: open and resolve alerts; edge1 fires most.
	for i := 0; i < 30; i++ {
		dev := fmt.Sprintf("edge%d", 1+(i*i)%4)
		if i%3 == 0 {
			dev = "edge1"
		}
		keys := fmt.Sprintf("name=Ethernet%d", 1+i%2)
		labels := schemas.AlertLabels(dev, metricInOctets, keys)
		fp := schemas.Fingerprint(labels)
		ev := day.Add(time.Duration(i) * 4 * time.Minute)
		state, ends := "firing", "NULL"
		if i%4 == 3 {
			state, ends = "resolved", at(ev)
		}
		lj, _ := json.Marshal(labels)
		data[schemas.TableDetections] = append(data[schemas.TableDetections], docsRow{"id": q(fmt.Sprintf("%s-%d-%s", fp, ev.UnixNano(), state)), "version": "1",
			"event_time": at(ev), "detected_at": at(ev.Add(time.Second)), "state": q(state), "device": q(dev), "metric": q(metricInOctets), "keys": q(keys),
			"detector": q([]string{"robust_z", "knn"}[i%2]), "detectors": "[" + q([]string{"robust_z", "knn"}[i%2]) + "]", "score": fmt.Sprint(0.5 + float64(i%10)/20),
			"severity": q([]string{"warning", "critical", "info"}[i%3]), "observed": "1e9", "expected": "5e8", "band_lower": "4e8", "band_upper": "6e8",
			"starts_at": at(day.Add(time.Duration(i/4*16) * time.Minute)), "ends_at": ends, "fingerprint": q(fp), "labels": q(string(lj)), "annotations": q(`{"summary":"high"}`)})
	}
	// Maintenance: one prediction updated, one closed, one just opened.
	m := func(dev, comp, signal, state string, ev, opened time.Time, closed string, predicted time.Time, conf float64, sev string) docsRow {
		key := schemas.MaintenanceKey(dev, comp, signal)
		return docsRow{"id": q(fmt.Sprintf("%s-%d-%s", key, ev.UnixNano(), state)), "version": "1", "key": q(key), "state": q(state),
			"event_time": at(ev), "detected_at": at(ev.Add(time.Second)), "opened_at": at(opened), "closed_at": closed, "close_reason": q(map[bool]string{true: "", false: "recovered"}[closed == "NULL"]),
			"device": q(dev), "component": q(comp), "metric": q("/components/component/transceiver/state/input-power"), "signal": q(signal), "unit": q("dBm"),
			"value": "-9.5", "slope_per_hour": "-0.1", "threshold": "-14", "threshold_source": q("device"), "direction": q("falling"),
			"predicted_failure": at(predicted), "interval_earliest": at(predicted.Add(-time.Hour)), "interval_latest": "NULL",
			"confidence": fmt.Sprint(conf), "lead_time_seconds": fmt.Sprint(predicted.Sub(ev).Seconds()), "severity": q(sev), "summary": q(signal + " heads for its threshold")}
	}
	data[schemas.TableMaintenance] = []docsRow{
		m("edge1", "name=Ethernet1-transceiver", "optic_rx_power", "open", day, day, "NULL", day.Add(48*time.Hour), 0.7, "warning"),
		m("edge1", "name=Ethernet1-transceiver", "optic_rx_power", "update", day.Add(time.Hour), day, "NULL", day.Add(30*time.Hour), 0.85, "critical"),
		m("edge2", "name=Fan1", "fan_speed", "open", day.Add(30*time.Minute), day.Add(30*time.Minute), "NULL", day.Add(72*time.Hour), 0.6, "info"),
		m("edge2", "name=Fan1", "fan_speed", "closed", day.Add(90*time.Minute), day.Add(30*time.Minute), at(day.Add(90*time.Minute)), day.Add(72*time.Hour), 0.6, "info"),
		m("edge3", "name=CPU0", "temperature", "open", day.Add(105*time.Minute), day.Add(105*time.Minute), "NULL", day.Add(10*time.Hour), 0.9, "warning"),
	}

	addDocsIncidents(data, day)

	var out []string
	for _, table := range append([]string{schemas.TableSamples, schemas.TablePower, schemas.TableDetections, schemas.TableMaintenance}, docsIncidentTables...) {
		out = append(out, docsInsert(db, table, schemas.ClickHouseColumns(table, l), data[table]))
	}
	return out
}

// docsInsert returns the INSERT statement of rows into columns cols of
// db.table; a *_frac column is 0, or NULL when its time is NULL.
func docsInsert(db, table string, cols []string, rows []docsRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s.%s (%s) VALUES ", db, table, strings.Join(cols, ", "))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for j, c := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			v, ok := r[c]
			if base, frac := strings.CutSuffix(c, "_frac"); frac {
				v, ok = "0", true
				if r[base] == "NULL" {
					v = "NULL"
				}
			}
			if !ok {
				panic(fmt.Sprintf("docs data: %s row %d lacks %s", table, i, c))
			}
			b.WriteString(v)
		}
		b.WriteString(")")
	}
	return b.String()
}

// runChDB applies ddl, then runs setup (each statement twice: a re-delivered
// batch) and queries on chDB, and returns the server version and results.
func runChDB(t *testing.T, ddl, setup []string, queries map[string]string) (string, map[string][][]any) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err == nil {
		if out, e := exec.Command(py, "-c", "import chdb").CombinedOutput(); e != nil {
			err = fmt.Errorf("%s", bytes.TrimSpace(out))
		}
	}
	if err != nil {
		if os.Getenv("TK_INTEGRATION") == "1" {
			t.Fatalf("needs python3 with chdb-core (pip install chdb-core): %v", err)
		}
		t.Skipf("skipping: needs python3 with chdb-core (pip install chdb-core): %v", err)
	}
	// chdb_modern.py applies every "ddl" statement twice.
	spec := map[string]any{"ddl": append(append([]string(nil), ddl...), setup...), "inserts": []any{}, "queries": queries}
	p := filepath.Join(t.TempDir(), "spec.json")
	js, _ := json.Marshal(spec)
	if err := os.WriteFile(p, js, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("testdata", "chdb_modern.py"), p)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chdb: %v\n%s", err, stderr.String())
	}
	var res struct {
		Version string
		Results map[string][][]any
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("chdb output: %v\n%s", err, out)
	}
	return res.Version, res.Results
}

// httpQuery runs query on the test server's HTTP interface and returns its
// rows in JSONCompact form.
func httpQuery(t *testing.T, query string) [][]any {
	t.Helper()
	base := os.Getenv("TK_CLICKHOUSE_HTTP")
	if base == "" {
		base = "http://127.0.0.1:8123"
	}
	return httpQueryAt(t, base, nil, query)
}

// httpQueryAt runs query with settings on the HTTP interface at base and
// returns its rows in JSONCompact form.
func httpQueryAt(t *testing.T, base string, settings url.Values, query string) [][]any {
	t.Helper()
	params := url.Values{"default_format": {"JSONCompact"}}
	for k, v := range settings {
		params[k] = v
	}
	resp, err := http.Post(base+"/?"+params.Encode(), "text/plain", strings.NewReader(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s\n%s", bytes.TrimSpace(body), query)
	}
	if len(bytes.TrimSpace(body)) == 0 { // a statement without a result
		return nil
	}
	var res struct{ Data [][]any }
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return res.Data
}

// cell normalises a result cell for comparison across versions: numbers
// (JSON numbers or quoted 64-bit integers) as float64, times without a zero
// fraction, arrays element by element.
func cell(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return f
		}
		if len(x) > 19 && x[4] == '-' && x[10] == ' ' && strings.Trim(x[19:], ".0") == "" {
			return x[:19]
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = cell(x[i])
		}
		return out
	}
	return v
}

// intString returns v as a decimal integer string when it is one (a quoted
// 64-bit integer or a JSON integer), so large integers compare exactly.
func intString(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	default:
		return "", false
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s, true
	}
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return s, true
	}
	return "", false
}

func sameCell(a, b any) bool {
	if x, ok := intString(a); ok {
		if y, ok := intString(b); ok {
			return x == y
		}
	}
	a, b = cell(a), cell(b)
	fa, ok1 := a.(float64)
	fb, ok2 := b.(float64)
	if ok1 && ok2 {
		return fa == fb || math.Abs(fa-fb) <= 1e-9*math.Max(math.Abs(fa), math.Abs(fb))
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// TestDocsQueriesChDBAnd1816 runs every example query of docs/analysts.md,
// and every query of the Grafana dashboard, on
// a current ClickHouse (chDB, modern layout) and on the test server (18.16,
// legacy layout), each on the same data inserted twice (a re-delivery), and
// checks that both give the same, non-empty answers, and a few of them by
// hand.
func TestDocsQueriesChDBAnd1816(t *testing.T) {
	const db = "tk_docs"
	names, queries := docsQueries(t, db)
	withGrafana := func(names []string, queries map[string]string, db string) []string {
		g := grafanaQueries(t, db)
		for _, k := range slices.Sorted(maps.Keys(g)) {
			names = append(names, k)
			queries[k] = g[k]
		}
		return names
	}
	names = withGrafana(names, queries, db)
	version, modern := runChDB(t, schemas.ClickHouseDDL(db, schemas.ServerVersion{Major: 26, Minor: 9}, schemas.DDLOptions{}),
		docsInserts(db, schemas.LayoutModern), queries)
	t.Logf("ClickHouse %s (chDB), modern layout", version)
	for _, name := range names {
		if len(modern[name]) == 0 {
			t.Errorf("%s: no rows on chDB", name)
		}
	}
	// A few answers, by hand.
	if r := modern["top-anomalous-devices"]; len(r) == 0 || r[0][0] != "edge1" {
		t.Errorf("top-anomalous-devices: %v, want edge1 first", r)
	}
	if r := modern["interfaces-down"]; len(r) != 1 || r[0][0] != "edge3" || r[0][1] != "name=Ethernet2" || !sameCell(r[0][2], 2.0) {
		t.Errorf("interfaces-down: %v, want edge3 name=Ethernet2 with 2 samples (inserted twice, counted once)", r)
	}
	// edge1: 24 windows of (300+20+w%5+3) W for 5 minutes.
	var wantWh float64
	for w := 0; w < 24; w++ {
		wantWh += (323 + float64(w%5)) * 5 / 60
	}
	for _, r := range modern["energy-per-device-per-day"] {
		if r[1] == "edge1" && !sameCell(r[2], math.Round(wantWh/1000*1e6)/1e6) {
			t.Errorf("energy of edge1: %v kWh, want %.6f", r[2], wantWh/1000)
		}
	}
	// The rate across edge2 Ethernet1's counter reset is not negative.
	for _, r := range modern["interface-in-bps-p95"] {
		if f := cell(r[2]); f.(float64) < 0 || f.(float64) > 8*8*30_000_000/30*1.01 {
			t.Errorf("interface-in-bps-p95: %v out of range", r)
		}
	}
	checkDocsIncidents(t, modern)
	if r := modern["open-maintenance-predictions"]; len(r) != 2 || r[0][2] != "temperature" || r[1][2] != "optic_rx_power" {
		t.Errorf("open-maintenance-predictions: %v, want temperature (edge3) then optic_rx_power (edge1)", r)
	}

	if os.Getenv("TK_CLICKHOUSE") == "" && os.Getenv("TK_INTEGRATION") != "1" {
		t.Log("TK_CLICKHOUSE not set: skipping the 18.16 half")
		return
	}
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := s.layout(ctx, schemas.TableSamples)
	if err != nil {
		t.Fatal(err)
	}
	// The driver sends no inline VALUES (see the package doc): insert
	// through the HTTP interface.
	for _, stmt := range docsInserts(s.Database(), l) {
		for range 2 {
			httpQuery(t, stmt)
		}
	}
	_, queries = docsQueries(t, s.Database())
	withGrafana(nil, queries, s.Database())
	v, _ := s.ServerVersion()
	for _, name := range names {
		got := httpQuery(t, queries[name])
		want := modern[name]
		same := len(got) == len(want)
		for i := 0; same && i < len(got); i++ {
			same = len(got[i]) == len(want[i])
			for j := 0; same && j < len(got[i]); j++ {
				same = sameCell(got[i][j], want[i][j])
			}
		}
		if !same {
			t.Errorf("%s: ClickHouse %v (%s layout) and chDB %s disagree:\n%v\n%v", name, v, l, version, got, want)
		}
	}
	t.Logf("%d queries agree on ClickHouse %v (%s) and %s (modern)", len(names), v, l, version)
}
