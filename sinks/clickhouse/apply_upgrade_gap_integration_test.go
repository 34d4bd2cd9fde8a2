package clickhouse

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// viewDefinition returns the definition of view in s's database, "" when
// it does not exist.
func viewDefinition(t *testing.T, s *Sink, view string) string {
	t.Helper()
	rows, err := s.conn.Query(context.Background(), "SELECT create_table_query FROM system.tables WHERE database = ? AND name = ?", s.cfg.Database, view)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	def := ""
	for rows.Next() {
		if err := rows.Scan(&def); err != nil {
			t.Fatal(err)
		}
	}
	return def
}

// TestIntegrationApplyUpgradeAfterFailedCreate is the state an upgrading
// Apply leaves when the CREATE fails after the DROP of an old rollup view
// (the view is gone, its table and rows stay): the next Apply creates the
// view again, current.
func TestIntegrationApplyUpgradeAfterFailedCreate(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if _, err := s.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	oldRollupViews(t, s)
	if err := s.conn.Exec(ctx, schemas.ClickHouseDropView(s.cfg.Database, "", schemas.ViewSamples1m)); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rep.Created, schemas.ViewSamples1m) || !slices.Equal(rep.Replaced, []string{schemas.ViewSamples1h}) {
		t.Errorf("Apply after a failed CREATE: created %v, replaced %v; want %s created and %s replaced", rep.Created, rep.Replaced, schemas.ViewSamples1m, schemas.ViewSamples1h)
	}
	for _, view := range []string{schemas.ViewSamples1m, schemas.ViewSamples1h} {
		if def := viewDefinition(t, s, view); !schemas.RollupViewIsCurrent(def) {
			t.Errorf("%s after the next Apply: %q", view, def)
		}
	}
}

// TestIntegrationApplyUpgradeViewDroppedMeanwhile is an upgrading Apply
// that listed an old rollup view which another process, upgrading at the
// same time, dropped before this one read its definition (and had not yet
// created again): Apply must not fail, and the view must end up current.
func TestIntegrationApplyUpgradeViewDroppedMeanwhile(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if _, err := s.Apply(ctx); err != nil {
		t.Fatal(err)
	}
	oldRollupViews(t, s)
	before, err := s.tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The other process's DROP, between this one's listing and its read.
	if err := s.conn.Exec(ctx, schemas.ClickHouseDropView(s.cfg.Database, "", schemas.ViewSamples1m)); err != nil {
		t.Fatal(err)
	}
	v, err := s.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	var rep ApplyReport
	err = s.upgradeViews(ctx, schemas.ClickHouseDDL(s.cfg.Database, v, schemas.DDLOptions{}), before, &rep)
	t.Logf("upgradeViews: replaced %v, err %v", rep.Replaced, err)
	if err != nil {
		t.Errorf("upgradeViews with a view dropped meanwhile: %v", err)
	}
	for _, view := range []string{schemas.ViewSamples1m, schemas.ViewSamples1h} {
		if def := viewDefinition(t, s, view); !schemas.RollupViewIsCurrent(def) {
			t.Errorf("%s after the upgrade: %q", view, def)
		}
	}
}

// TestIntegrationApplyConcurrentUpgrade runs Apply from four sinks at once
// on a database whose rollup views have the earlier definition, as the
// instances of an upgraded deployment starting together do: none may
// fail, and both views end up current.
func TestIntegrationApplyConcurrentUpgrade(t *testing.T) {
	const rounds = 10
	failed := 0
	for round := range rounds {
		first := newTestSink(t, nil)
		if _, err := first.Apply(context.Background()); err != nil {
			t.Fatal(err)
		}
		oldRollupViews(t, first)
		sinks := []*Sink{first}
		for range 3 {
			sinks = append(sinks, newTestSink(t, func(c *Config) { c.Database = first.Database() }))
		}
		var wg sync.WaitGroup
		errs := make([]error, len(sinks))
		for i, s := range sinks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Apply(context.Background())
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				failed++
				t.Errorf("round %d: Apply %d: %v", round, i, err)
			}
		}
		for _, view := range []string{schemas.ViewSamples1m, schemas.ViewSamples1h} {
			if def := viewDefinition(t, first, view); !schemas.RollupViewIsCurrent(def) {
				t.Errorf("round %d: %s after the upgrade: %q", round, view, def)
			}
		}
	}
	t.Logf("%d of %d Applies failed", failed, rounds*4)
}
