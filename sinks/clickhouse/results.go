package clickhouse

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// cols holds a table's columns as typed slices, by name, for one INSERT.
type cols map[string]any

func (c cols) appendTo(dst columns, names []string, table string) error {
	for i, name := range names {
		v, ok := c[name]
		if !ok {
			return fmt.Errorf("%s column %s has no source (this build does not know the layout)", table, name)
		}
		if err := dst.Column(i).Append(v); err != nil {
			return &columnTypeError{column: name, err: err}
		}
	}
	return nil
}

// colOf returns get applied to every row, as one column.
func colOf[R, T any](rows []R, get func(*R) T) []T {
	out := make([]T, len(rows))
	for i := range rows {
		out[i] = get(&rows[i])
	}
	return out
}

// nullF64 makes NaN NULL.
func nullF64(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

func nullStr(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// setTimes adds the time column name to c in layout l: DateTime64 values on
// the modern layout; whole seconds plus a name_frac column of nanoseconds
// on the legacy one, unless noFrac (then the nanoseconds are dropped). get
// returns nil for NULL; nullable says whether the column is Nullable.
func setTimes[R any](c cols, rows []R, name string, l schemas.Layout, nullable, noFrac bool, get func(*R) *time.Time) error {
	if l == schemas.LayoutModern {
		for i := range rows {
			if t := get(&rows[i]); t != nil && (t.Before(modernMinTime) || t.After(modernMaxTime)) {
				return fmt.Errorf("%w: row %d: %s %s is outside the DateTime64(9) range of the modern layout (%s to %s)",
					ErrBadInput, i, name, t.UTC().Format(time.RFC3339Nano), modernMinTime.Format(time.DateOnly), modernMaxTime.Format(time.RFC3339))
			}
		}
		if nullable {
			c[name] = colOf(rows, func(r *R) *time.Time {
				if t := get(r); t != nil {
					u := t.UTC()
					return &u
				}
				return nil
			})
		} else {
			c[name] = colOf(rows, func(r *R) time.Time { return get(r).UTC() })
		}
		return nil
	}
	secs, fracs := make([]int64, len(rows)), make([]uint32, len(rows))
	var secp []*int64
	var fracp []*uint32
	if nullable {
		secp, fracp = make([]*int64, len(rows)), make([]*uint32, len(rows))
	}
	for i := range rows {
		t := get(&rows[i])
		if t == nil {
			continue
		}
		sec := t.Unix()
		if sec < 0 || sec > legacyMaxSec {
			return fmt.Errorf("%w: row %d: %s %s is outside the DateTime range of the legacy layout (1970 to 2106)",
				ErrBadInput, i, name, t.UTC().Format(time.RFC3339Nano))
		}
		secs[i], fracs[i] = sec, uint32(t.Nanosecond())
		if nullable {
			secp[i], fracp[i] = &secs[i], &fracs[i]
		}
	}
	switch {
	case nullable:
		c[name] = secp
		if !noFrac {
			c[name+"_frac"] = fracp
		}
	default:
		c[name] = secs
		if !noFrac {
			c[name+"_frac"] = fracs
		}
	}
	return nil
}

// insertCols writes the columns of n rows into table as one INSERT.
func (s *Sink) insertCols(ctx context.Context, table string, n int, build func(l schemas.Layout) (cols, error)) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if n == 0 {
		return 0, nil
	}
	l, err := s.layout(ctx, table)
	if err != nil {
		return 0, err
	}
	c, err := build(l)
	if err != nil {
		return 0, err
	}
	if err := s.sendCols(ctx, table, n, schemas.ClickHouseColumns(table, l), c); err != nil {
		return 0, err
	}
	return n, nil
}

// sendCols writes c, n rows, into table's columns names as one INSERT.
func (s *Sink) sendCols(ctx context.Context, table string, n int, names []string, c cols) error {
	ictx, w := s.ins.watch(ctx)
	if err := w.end(s.sendBatch(ictx, table, names, c)); err != nil {
		return s.insertError(table, n, err)
	}
	return nil
}

// sendBatch is sendCols without the watch and the error's context.
func (s *Sink) sendBatch(ctx context.Context, table string, names []string, c cols) error {
	b, err := s.conn.PrepareBatch(s.insertContext(ctx), insertStatement(s.db, table, names))
	if err != nil {
		return err
	}
	defer b.Close()
	if err := c.appendTo(b, names, table); err != nil {
		return err
	}
	return b.Send()
}

// InsertPower validates rows (the power contract, as schemas.DecodePower
// returns them) and writes them as one INSERT into the power table,
// returning the number written. NaN in the nullable float fields, 0 speed
// and empty reason or detail are written as NULL. Re-sending the same rows
// is harmless: the table deduplicates on (row, device, component,
// window_start). It keeps no reference to rows.
func (s *Sink) InsertPower(ctx context.Context, rows []schemas.PowerRow) (int, error) {
	for i := range rows {
		if err := rows[i].Validate(); err != nil {
			return 0, fmt.Errorf("%w: power row %d: %v", ErrBadInput, i, err)
		}
	}
	return s.insertCols(ctx, schemas.TablePower, len(rows), func(l schemas.Layout) (cols, error) { return powerCols(rows, l) })
}

// InsertMaintenance validates evs and writes them as one INSERT into the
// maintenance table, returning the number written. Re-sending the same
// events is harmless: the table deduplicates on (device, component,
// signal, event_time, id). It keeps no reference to evs.
func (s *Sink) InsertMaintenance(ctx context.Context, evs []schemas.MaintenanceEvent) (int, error) {
	for i := range evs {
		if err := evs[i].Validate(); err != nil {
			return 0, fmt.Errorf("%w: maintenance event %d (id %q): %v", ErrBadInput, i, evs[i].ID, err)
		}
	}
	return s.insertCols(ctx, schemas.TableMaintenance, len(evs), func(l schemas.Layout) (cols, error) { return maintenanceCols(evs, l) })
}

// powerCols flattens rows into the power table columns of layout l.
func powerCols(rows []schemas.PowerRow, l schemas.Layout) (cols, error) {
	type R = schemas.PowerRow
	c := cols{
		"device":      colOf(rows, func(r *R) string { return r.Device }),
		"model":       colOf(rows, func(r *R) string { return r.Model }),
		"row":         colOf(rows, func(r *R) string { return r.Row }),
		"component":   colOf(rows, func(r *R) string { return r.Component }),
		"measured_w":  colOf(rows, func(r *R) *float64 { return nullF64(r.MeasuredW) }),
		"modelled_w":  colOf(rows, func(r *R) float64 { return r.ModelledW }),
		"energy_wh":   colOf(rows, func(r *R) float64 { return r.EnergyWh }),
		"utilisation": colOf(rows, func(r *R) *float64 { return nullF64(r.Utilisation) }),
		"speed_bps": colOf(rows, func(r *R) *uint64 {
			if r.SpeedBps == 0 {
				return nil
			}
			v := r.SpeedBps
			return &v
		}),
		"reason":     colOf(rows, func(r *R) *string { return nullStr(r.Reason) }),
		"residual_z": colOf(rows, func(r *R) *float64 { return nullF64(r.ResidualZ) }),
		"samples":    colOf(rows, func(r *R) uint32 { return r.Samples }),
		"fit_points": colOf(rows, func(r *R) uint64 { return r.FitPoints }),
		"detail":     colOf(rows, func(r *R) *string { return nullStr(r.Detail) }),
	}
	for _, tc := range []struct {
		name string
		get  func(*R) *time.Time
	}{
		{"window_start", func(r *R) *time.Time { t := time.Unix(0, r.WindowStart); return &t }},
		{"window_end", func(r *R) *time.Time { t := time.Unix(0, r.WindowEnd); return &t }},
	} {
		if err := setTimes(c, rows, tc.name, l, false, false, tc.get); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// maintenanceCols flattens evs into the maintenance table columns of
// layout l.
func maintenanceCols(evs []schemas.MaintenanceEvent, l schemas.Layout) (cols, error) {
	type E = schemas.MaintenanceEvent
	c := cols{
		"id":                colOf(evs, func(e *E) string { return e.ID }),
		"version":           colOf(evs, func(e *E) uint8 { return uint8(e.Version) }),
		"key":               colOf(evs, func(e *E) string { return e.Key }),
		"state":             colOf(evs, func(e *E) string { return e.State }),
		"close_reason":      colOf(evs, func(e *E) string { return e.CloseReason }),
		"device":            colOf(evs, func(e *E) string { return e.Device }),
		"component":         colOf(evs, func(e *E) string { return e.Component }),
		"metric":            colOf(evs, func(e *E) string { return e.Metric }),
		"signal":            colOf(evs, func(e *E) string { return e.Signal }),
		"unit":              colOf(evs, func(e *E) string { return e.Unit }),
		"value":             colOf(evs, func(e *E) float64 { return e.Value }),
		"slope_per_hour":    colOf(evs, func(e *E) float64 { return e.SlopePerHour }),
		"threshold":         colOf(evs, func(e *E) float64 { return e.Threshold }),
		"threshold_source":  colOf(evs, func(e *E) string { return e.ThresholdSource }),
		"direction":         colOf(evs, func(e *E) string { return e.Direction }),
		"confidence":        colOf(evs, func(e *E) float64 { return e.Confidence }),
		"lead_time_seconds": colOf(evs, func(e *E) float64 { return e.LeadTimeSeconds }),
		"severity":          colOf(evs, func(e *E) string { return e.Severity }),
		"summary":           colOf(evs, func(e *E) string { return e.Summary }),
	}
	for _, tc := range []struct {
		name             string
		nullable, noFrac bool
		get              func(*E) *time.Time
	}{
		{"event_time", false, false, func(e *E) *time.Time { return &e.EventTime }},
		{"detected_at", false, false, func(e *E) *time.Time { return &e.DetectedAt }},
		{"opened_at", false, false, func(e *E) *time.Time { return &e.OpenedAt }},
		{"closed_at", true, false, func(e *E) *time.Time { return e.ClosedAt }},
		{"predicted_failure", false, true, func(e *E) *time.Time { return &e.PredictedFailure }},
		{"interval_earliest", false, true, func(e *E) *time.Time { return &e.Interval.Earliest }},
		{"interval_latest", true, true, func(e *E) *time.Time { return e.Interval.Latest }},
	} {
		if err := setTimes(c, evs, tc.name, l, tc.nullable, tc.noFrac, tc.get); err != nil {
			return nil, err
		}
	}
	return c, nil
}
