package power

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestRestoreUnderShorterHistory: a device state written with
// residual_history 96 and restored after the operator lowered it to 16
// scores residuals against the last 16 windows, as configured. Before, the
// restored 96 windows were kept for good (each new window dropped one old
// one), so the robust z was computed over six times the configured
// history for ever.
func TestRestoreUnderShorterHistory(t *testing.T) {
	a, _ := New(Config{})
	a.Observe(t0.UnixNano(), "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 115, "")
	for i := range 96 {
		a.devices["d"].history = append(a.devices["d"].history, 0.001*float64(i%7))
	}
	st, ok := a.AppendDeviceState(nil, "d")
	if !ok {
		t.Fatal("no state")
	}
	b, _ := New(Config{ResidualHistory: 16})
	if err := b.RestoreDeviceState("d", st); err != nil {
		t.Fatal(err)
	}
	b.cfg.WarmUp = 0 // score at once
	d := b.devices["d"]
	for i := range 3 { // three more windows are scored
		row := schemas.PowerRow{WindowEnd: t0.Add(time.Duration(i+1) * time.Hour).UnixNano(), MeasuredW: 115}
		b.scoreResidual(d, &row, 115)
	}
	if n := len(d.history); n > 16 {
		t.Errorf("restored under residual_history 16: residuals scored against %d windows", n)
	}
}
