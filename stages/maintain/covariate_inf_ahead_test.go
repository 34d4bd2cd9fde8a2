package maintain

import (
	"bytes"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// TestMaintainCovariateInfAhead: one CPU temperature reading of sim-01
// (a covariate's metric) of +Inf or -Inf, stamped a year ahead at minute
// 40 (sim-01 alone in its partition), is dropped as a NaN one is
// (TestMaintainDroppedReadingAhead): sim-01's events are those with the
// reading on time, its optic cases closing as stale 30 minutes after its
// Ethernet2 readings stop at minute 120, and nothing is logged. Before,
// the tracker kept ±Inf as the covariate's reading and Dates said it
// dated its key, so the stage placed sim-01 a year ahead by it and, its
// next samples all that far behind, logged a false clock step back.
func TestMaintainCovariateInfAhead(t *testing.T) {
	for _, v := range []float64{math.Inf(1), math.Inf(-1)} {
		run := func(shift time.Duration) (events []string, logged string) {
			done := false
			recs := stagetest.FleetTicks(t, degradingOptic(t), 200, func(i int, s *schemas.Sample) bool {
				if s.Device != stepDevice || i >= 120 && strings.Contains(s.Keys, "Ethernet2") {
					return false
				}
				s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
				if i == 40 && !done && s.Metric == schemas.MetricTemperature && s.Keys == "name=CPU" {
					s.F64 = v
					s.TS += int64(shift)
					done = true
				}
				return true
			})
			if !done {
				t.Fatalf("no CPU temperature sample of %s at minute 40", stepDevice)
			}
			var logs bytes.Buffer
			m := staleStage(t)
			m.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			return process(t, m, recs), logs.String()
		}
		want, _ := run(0)
		stale := slices.DeleteFunc(closes(want), func(l string) bool { return !strings.HasSuffix(l, " "+schemas.CloseStale) })
		if len(stale) != 2 {
			t.Fatalf("temperature %v on time, cases closed as stale: %v, want sim-01's two", v, stale)
		}
		got, logged := run(365 * 24 * time.Hour)
		if !slices.Equal(got, want) {
			t.Errorf("events with a temperature of %v a year ahead:\n%v\nwant those with it on time:\n%v", v, got, want)
		}
		if logged != "" {
			t.Errorf("with a temperature of %v a year ahead the stage logged %q, want nothing", v, logged)
		}
	}
}
