package clickhouse

import (
	"context"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestIntegrationApplyCreatesThenMigrates applies the schema to a fresh
// database (everything created), again (nothing changed), then to tables
// of an older shape (a column missing), which it adds.
func TestIntegrationApplyCreatesThenMigrates(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	rep, err := s.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"detections", "incident_members", "incidents", "inventory", "inventory_links", "maintenance", "power", "samples", "samples_1h", "samples_1h_mv", "samples_1m", "samples_1m_mv", "schema_version"}
	if !slices.Equal(rep.Created, want) || len(rep.Added) != 0 {
		t.Fatalf("first Apply: created %v, added %v; want created %v", rep.Created, rep.Added, want)
	}
	rep, err = s.Apply(ctx)
	if err != nil || rep.Changed() {
		t.Fatalf("second Apply: %+v, %v; want no change", rep, err)
	}
	// An older build's tables: power without detail, maintenance without
	// summary, and no hourly rollup.
	for _, stmt := range []string{
		"ALTER TABLE " + s.db + ".power DROP COLUMN detail",
		"ALTER TABLE " + s.db + ".maintenance DROP COLUMN summary",
		"DROP TABLE " + s.db + ".samples_1h_mv",
		"DROP TABLE " + s.db + ".samples_1h",
	} {
		if err := s.conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = s.Apply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Created, []string{"samples_1h", "samples_1h_mv"}) || !slices.Equal(rep.Added, []string{"power.detail", "maintenance.summary"}) {
		t.Fatalf("migrating Apply: created %v, added %v", rep.Created, rep.Added)
	}
	if rep, err = s.Apply(ctx); err != nil || rep.Changed() {
		t.Fatalf("Apply after the migration: %+v, %v; want no change", rep, err)
	}
	v, _ := s.ServerVersion()
	for table, l := range rep.Layouts {
		if l != schemas.ChooseLayout(v) {
			t.Errorf("%s has layout %v on %v", table, l, v)
		}
	}
}
