package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	chproto "github.com/ClickHouse/ch-go/proto"

	"github.com/telekernel/telekernel/schemas"
)

// testPower returns the power rows of devices for windows 5-minute windows
// on testDay, with nanosecond window bounds, NULLs and every row kind.
func testPower(devices, windows int) []schemas.PowerRow {
	var out []schemas.PowerRow
	for d := 1; d <= devices; d++ {
		dev := fmt.Sprintf("edge%d", d)
		for w := 0; w < windows; w++ {
			start := testDay.Add(time.Duration(w)*5*time.Minute + time.Duration(d)*time.Nanosecond).UnixNano()
			end := start + int64(5*time.Minute)
			measured := math.NaN()
			if d%2 == 1 {
				measured = 310.25 + float64(w)
			}
			base := schemas.PowerRow{WindowStart: start, WindowEnd: end, Device: dev, Model: "7280R3", FitPoints: uint64(100 * w),
				MeasuredW: math.NaN(), Utilisation: math.NaN(), ResidualZ: math.NaN()}
			dr := base
			dr.Row, dr.MeasuredW, dr.ModelledW, dr.EnergyWh, dr.ResidualZ, dr.Samples = schemas.PowerRowDevice, measured, 300+float64(w), 25.5, 0.25, 10
			ch := base
			ch.Row, ch.ModelledW, ch.EnergyWh = schemas.PowerRowChassis, 250, 250.0/12
			pt := base
			pt.Row, pt.Component, pt.ModelledW, pt.EnergyWh, pt.Utilisation, pt.SpeedBps = schemas.PowerRowPort, "name=Ethernet1", 4.5, 0.375, 0.125, 100e9
			out = append(out, dr, ch, pt)
			if w == windows-1 {
				sv := base
				sv.Row, sv.Component, sv.ModelledW, sv.EnergyWh, sv.Reason, sv.Detail = schemas.PowerRowSaving, "name=Ethernet2", 2.5, 2.5/12,
					schemas.SavingAdminUpOperDown, "Ethernet2 is up without link"
				out = append(out, sv)
			}
		}
	}
	return out
}

// testMaintenance returns an open, an update and a closed event of one
// prediction and an open one of another, with nanosecond times.
func testMaintenance() []schemas.MaintenanceEvent {
	mk := func(dev, comp, signal, state string, at time.Duration, latest bool) schemas.MaintenanceEvent {
		ev := testDay.Add(at + 123456789)
		opened := testDay.Add(time.Hour + 123456789)
		pred := ev.Add(40 * time.Hour)
		e := schemas.MaintenanceEvent{Version: schemas.MaintenanceVersion, Key: schemas.MaintenanceKey(dev, comp, signal), State: state,
			EventTime: ev, DetectedAt: ev.Add(time.Second), OpenedAt: opened, Device: dev, Component: comp,
			Metric: "/components/component/transceiver/state/input-power", Signal: signal, Unit: "dBm",
			Value: -9.75, SlopePerHour: -0.05, Threshold: -14, ThresholdSource: schemas.ThresholdDevice, Direction: schemas.DirectionFalling,
			PredictedFailure: pred, Interval: schemas.Interval{Earliest: pred.Add(-3 * time.Hour)}, Confidence: 0.8,
			LeadTimeSeconds: pred.Sub(ev).Seconds(), Severity: schemas.SeverityWarning, Summary: signal + " heads for its threshold"}
		if latest {
			l := pred.Add(5 * time.Hour)
			e.Interval.Latest = &l
		}
		if state == schemas.MaintenanceClosed {
			c := ev
			e.ClosedAt, e.CloseReason = &c, schemas.CloseRecovered
		}
		e.ID = fmt.Sprintf("%s-%d-%s", e.Key, ev.UnixNano(), state)
		return e
	}
	return []schemas.MaintenanceEvent{
		mk("edge1", "name=Ethernet1-transceiver", "optic_rx_power", schemas.MaintenanceOpen, time.Hour, false),
		mk("edge1", "name=Ethernet1-transceiver", "optic_rx_power", schemas.MaintenanceUpdate, 2*time.Hour, true),
		mk("edge1", "name=Ethernet1-transceiver", "optic_rx_power", schemas.MaintenanceClosed, 3*time.Hour, true),
		mk("edge2", "name=Fan1", "fan_speed", schemas.MaintenanceOpen, 90*time.Minute, false),
	}
}

// resultsQueries read the power and maintenance tables back in a form
// that is the same on both layouts.
func resultsQueries(db string, l schemas.Layout) map[string]string {
	ns := func(col string) string {
		if l == schemas.LayoutLegacy {
			return fmt.Sprintf("toString(toUInt64(toUInt32(%[1]s)) * 1000000000 + %[1]s_frac)", col)
		}
		return fmt.Sprintf("toString(toUnixTimestamp64Nano(%s))", col)
	}
	sec := func(col string) string { return fmt.Sprintf("toString(toUInt32(toDateTime(%s)))", col) }
	return map[string]string{
		"power": fmt.Sprintf(`SELECT %s, %s, device, model, row, component, toString(measured_w), modelled_w, energy_wh,
			toString(utilisation), toString(speed_bps), toString(reason), toString(residual_z), samples, toString(fit_points), toString(detail)
			FROM %s.power FINAL ORDER BY row, device, component, window_start`, ns("window_start"), ns("window_end"), db),
		"maintenance": fmt.Sprintf(`SELECT id, key, state, %s, %s, %s, if(isNull(closed_at), 'NULL', %s), close_reason, device, component, signal,
			value, threshold, %s, %s, if(isNull(interval_latest), 'NULL', toString(toUInt32(toDateTime(assumeNotNull(interval_latest))))), confidence, severity, summary
			FROM %s.maintenance FINAL ORDER BY device, component, signal, event_time, id`,
			ns("event_time"), ns("detected_at"), ns("opened_at"), map[schemas.Layout]string{
				schemas.LayoutModern: "toString(toUnixTimestamp64Nano(assumeNotNull(closed_at)))",
				schemas.LayoutLegacy: "toString(toUInt64(toUInt32(assumeNotNull(closed_at))) * 1000000000 + assumeNotNull(closed_at_frac))"}[l],
			sec("predicted_failure"), sec("interval_earliest"), db),
		"counts": fmt.Sprintf("SELECT (SELECT count() FROM %[1]s.power FINAL), (SELECT count() FROM %[1]s.maintenance FINAL)", db),
	}
}

// checkResults compares what resultsQueries return with testPower(3, 4)
// and testMaintenance(), exactly (timestamps to the nanosecond).
func checkResults(t *testing.T, res map[string][][]any) {
	t.Helper()
	pw, ms := testPower(3, 4), testMaintenance()
	if c := res["counts"]; len(c) != 1 || !sameCell(c[0][0], float64(len(pw))) || !sameCell(c[0][1], float64(len(ms))) {
		t.Errorf("counts FINAL %v, want %d power rows and %d maintenance events (each inserted twice)", c, len(pw), len(ms))
	}
	null := func(s string, ok bool) any {
		if !ok {
			return nil
		}
		return s
	}
	byKey := map[string]schemas.PowerRow{}
	for _, r := range pw {
		byKey[fmt.Sprint(r.Row, r.Device, r.Component, r.WindowStart)] = r
	}
	for _, row := range res["power"] {
		ws, _ := cell(row[0]).(float64)
		var r schemas.PowerRow
		found := false
		for _, c := range pw {
			if fmt.Sprint(c.Row, c.Device, c.Component) == fmt.Sprint(row[4], row[2], row[5]) && float64(c.WindowStart) == ws {
				r, found = c, true
			}
		}
		if !found {
			t.Errorf("power row %v was not inserted", row)
			continue
		}
		f := func(v float64) any { return null(fmt.Sprint(v), !math.IsNaN(v)) }
		want := []any{fmt.Sprint(r.WindowStart), fmt.Sprint(r.WindowEnd), r.Device, r.Model, r.Row, r.Component, f(r.MeasuredW), r.ModelledW, r.EnergyWh,
			f(r.Utilisation), null(fmt.Sprint(r.SpeedBps), r.SpeedBps != 0), null(r.Reason, r.Reason != ""), f(r.ResidualZ), float64(r.Samples),
			fmt.Sprint(r.FitPoints), null(r.Detail, r.Detail != "")}
		for i := range want {
			if !sameCell(row[i], want[i]) {
				t.Errorf("power row %v column %d = %v, want %v", row, i, row[i], want[i])
			}
		}
	}
	if len(res["power"]) != len(byKey) {
		t.Errorf("%d power rows read back, want %d", len(res["power"]), len(byKey))
	}
	if len(res["maintenance"]) != len(ms) {
		t.Fatalf("%d maintenance rows read back, want %d", len(res["maintenance"]), len(ms))
	}
	for i, e := range ms { // ms is in the query's order
		row := res["maintenance"][i]
		closed, latest := "NULL", "NULL"
		if e.ClosedAt != nil {
			closed = fmt.Sprint(e.ClosedAt.UnixNano())
		}
		if e.Interval.Latest != nil {
			latest = fmt.Sprint(e.Interval.Latest.Unix())
		}
		want := []any{e.ID, e.Key, e.State, fmt.Sprint(e.EventTime.UnixNano()), fmt.Sprint(e.DetectedAt.UnixNano()), fmt.Sprint(e.OpenedAt.UnixNano()),
			closed, e.CloseReason, e.Device, e.Component, e.Signal, e.Value, e.Threshold, fmt.Sprint(e.PredictedFailure.Unix()),
			fmt.Sprint(e.Interval.Earliest.Unix()), latest, e.Confidence, e.Severity, e.Summary}
		for j := range want {
			if !sameCell(row[j], want[j]) {
				t.Errorf("maintenance %s column %d = %v, want %v", e.ID, j, row[j], want[j])
			}
		}
	}
}

// TestIntegrationPowerMaintenance writes power rows and maintenance events
// twice (a re-delivery) to the test server and reads them back exactly,
// once each.
func TestIntegrationPowerMaintenance(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if n, err := s.InsertPower(ctx, testPower(3, 4)); err != nil || n != len(testPower(3, 4)) {
			t.Fatalf("InsertPower = %d, %v", n, err)
		}
		if n, err := s.InsertMaintenance(ctx, testMaintenance()); err != nil || n != 4 {
			t.Fatalf("InsertMaintenance = %d, %v", n, err)
		}
	}
	l, err := s.layout(ctx, schemas.TablePower)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string][][]any{}
	for name, q := range resultsQueries(s.Database(), l) {
		res[name] = httpQuery(t, q)
	}
	checkResults(t, res)
	// Bad input is refused before anything is sent.
	bad := testPower(1, 1)
	bad[0].Row = "rack"
	if _, err := s.InsertPower(ctx, bad); !errors.Is(err, ErrBadInput) {
		t.Errorf("InsertPower of a bad row: %v, want ErrBadInput", err)
	}
}

// TestPowerMaintenanceModernChDB writes the same rows through the driver's
// column encoders in the modern layout and lets a current ClickHouse (chDB)
// store them twice and read them back.
func TestPowerMaintenanceModernChDB(t *testing.T) {
	const db = "tk_results"
	dir := t.TempDir()
	native := func(table string, build func() (cols, error)) map[string]any {
		b, names := newTestBlock(t, table, schemas.LayoutModern)
		c, err := build()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.appendTo(b, names, table); err != nil {
			t.Fatal(err)
		}
		var buf chproto.Buffer
		if err := b.Encode(&buf, 0); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, table+".native")
		if err := os.WriteFile(p, buf.Buf, 0o600); err != nil {
			t.Fatal(err)
		}
		return map[string]any{"table": db + "." + table, "columns": names, "file": p, "times": 2}
	}
	inserts := []map[string]any{
		native(schemas.TablePower, func() (cols, error) { return powerCols(testPower(3, 4), schemas.LayoutModern) }),
		native(schemas.TableMaintenance, func() (cols, error) { return maintenanceCols(testMaintenance(), schemas.LayoutModern) }),
	}
	py, err := exec.LookPath("python3")
	if err == nil {
		if out, e := exec.Command(py, "-c", "import chdb").CombinedOutput(); e != nil {
			err = fmt.Errorf("%s", bytes.TrimSpace(out))
		}
	}
	if err != nil {
		if os.Getenv("TK_INTEGRATION") == "1" {
			t.Fatalf("needs python3 with chdb-core: %v", err)
		}
		t.Skipf("skipping: needs python3 with chdb-core: %v", err)
	}
	spec := map[string]any{"ddl": schemas.ClickHouseDDL(db, schemas.ServerVersion{Major: 26, Minor: 9}, schemas.DDLOptions{}),
		"inserts": inserts, "queries": resultsQueries(db, schemas.LayoutModern)}
	p := filepath.Join(dir, "spec.json")
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
	var res struct{ Results map[string][][]any }
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		t.Fatal(err)
	}
	checkResults(t, res.Results)
}
