package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/clickhouse"
	"github.com/telekernel/telekernel/stages/inventory"
)

// TestIncidentsStageReloadsInventory: the clickhouse-incidents sink stores
// the inventory file's devices at start, and a changed file's at the next
// flush, without a restart; an unchanged file is not written again.
func TestIncidentsStageReloadsInventory(t *testing.T) {
	chAddr := testenv.Service(t, "TK_CLICKHOUSE")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := clickhouse.New(ctx, clickhouse.Config{Addr: []string{chAddr}, Database: "tk_it_inv_" + randomSuffix()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.DropDatabase(context.Background()); s.Close() }()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	write := func(body string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	two := "devices:\n  - {name: spine1, site: fra1, role: spine}\n  - {name: leaf1, site: fra1, role: leaf}\n"
	write(two, time.Now().Add(-time.Hour))
	log := slog.New(slog.DiscardHandler)
	inv, err := inventory.NewFile(path, time.Millisecond, log)
	if err != nil {
		t.Fatal(err)
	}
	st := &incidentsStage{IncidentsStage: clickhouse.NewIncidentsStage(s), s: s, inv: inv, log: log}
	count := func(want uint64) {
		t.Helper()
		if n, err := s.Count(ctx, schemas.TableInventory); err != nil || n != want {
			t.Fatalf("inventory holds %d devices (%v), want %d", n, err, want)
		}
	}
	st.loadInventory(ctx)
	count(2)
	gen := st.gen
	time.Sleep(5 * time.Millisecond)
	if _, err := st.Flush(ctx); err != nil || st.gen != gen {
		t.Fatalf("Flush with the file unchanged: %v, generation %d → %d", err, gen, st.gen)
	}
	write(two+"  - {name: leaf2, site: ams1, role: leaf}\n", time.Now())
	time.Sleep(5 * time.Millisecond)
	if _, err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	count(3)
}
