package clickhouse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
)

// TestApplyFollowsTheSamplesLayout: a deployment whose tables are in the
// legacy layout (created on 18.16 by an earlier build, with the rollup
// views of before the finite-only change) meets a build that chooses the
// modern layout for new objects (a server upgraded in place to 21.8 or
// later with layout auto; here layout modern is forced, the same path).
// Apply replaces the old views in the layout of the samples table they
// read, and inserts follow the legacy tables. (A missing view is made from
// the same statements, but cannot be shown here: with every object
// existing no statement runs, and with one missing every statement does,
// and 18.16 cannot parse the modern ones.)
// Before, it took the views from the chosen layout's DDL: the modern
// view (nanosecond times, no ts_frac) failed on the legacy table after
// the old view was dropped, so Apply, and every stage's start, failed
// and left the deployment without that rollup view.
func TestApplyFollowsTheSamplesLayout(t *testing.T) {
	ctx := context.Background()
	old := newTestSink(t, nil) // 18.16, layout auto: legacy
	if _, err := old.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	oldRollupViews(t, old)

	s := newTestSink(t, func(c *Config) { c.Database = old.cfg.Database; c.Layout = "modern" })
	legacyViews := func(when string) {
		t.Helper()
		if _, err := s.Apply(ctx); err != nil {
			t.Fatalf("Apply over existing legacy tables (%s): %v", when, err)
		}
		for _, view := range []string{schemas.ViewSamples1m, schemas.ViewSamples1h} {
			var def string
			err := s.conn.QueryRow(ctx, "SELECT create_table_query FROM system.tables WHERE database = ? AND name = ?", s.cfg.Database, view).Scan(&def)
			switch {
			case err != nil:
				t.Errorf("%s after Apply (%s): %v", view, when, err)
			case !strings.Contains(def, "ts_frac") || !schemas.RollupViewIsCurrent(def):
				t.Errorf("%s after Apply (%s) is not the current legacy view:\n%s", view, when, def)
			}
		}
	}
	legacyViews("with the old views")
	legacyViews("again")

	mem := memory.NewGoAllocator()
	rows, _ := nonFiniteMinute(testDay.Add(10 * time.Hour))
	recs := records(mem, rows, 1)
	defer release(recs)
	if _, err := s.InsertSamples(ctx, recs); err != nil {
		t.Errorf("insert into the legacy samples table: %v", err)
	}
}
