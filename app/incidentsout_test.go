package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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

// failingWriter fails InsertInventory while fail is positive.
type failingWriter struct{ fail, calls int }

func (w *failingWriter) InsertInventory(_ context.Context, inv *schemas.Inventory, _ time.Time) (int, error) {
	w.calls++
	if w.fail > 0 {
		w.fail--
		return 0, errors.New("clickhouse unreachable")
	}
	return len(inv.Devices), nil
}

// TestIncidentsStageInventoryWarnsOnce: an inventory that cannot be stored
// over 120 flush retries 5 s apart (10 minutes) gives one WARN when it
// starts, at most one repeat a minute, and one INFO when it clears, not a
// WARN per retry.
func TestIncidentsStageInventoryWarnsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, []byte("devices:\n  - {name: spine1, site: fra1, role: spine}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.NewFile(path, time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	const retries, step = 120, 5 * time.Second
	w := &failingWriter{fail: retries}
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := &incidentsStage{s: w, inv: inv, log: log, now: func() time.Time { return clock }}
	for i := 0; i <= retries+2; i++ {
		st.loadInventory(context.Background())
		clock = clock.Add(step)
	}
	if w.calls != retries+1 || st.gen == 0 {
		t.Fatalf("%d writes, generation %d: want %d writes and the inventory stored", w.calls, st.gen, retries+1)
	}
	warns, infos := strings.Count(buf.String(), "level=WARN"), strings.Count(buf.String(), "level=INFO")
	maxWarns := 1 + int(retries*step/time.Minute)
	t.Logf("%d retries over %s: %d WARN, %d INFO", retries, retries*step, warns, infos)
	if warns < 1 || warns > maxWarns {
		t.Errorf("%d WARN lines over %d retries, want 1..%d (one at the start, at most one a minute)", warns, retries, maxWarns)
	}
	if !strings.Contains(buf.String(), "inventory stored in clickhouse again") {
		t.Errorf("no INFO line when the condition cleared:\n%s", buf.String())
	}
	if strings.Count(buf.String(), "level=INFO") != 1 {
		t.Errorf("%d INFO lines, want 1:\n%s", infos, buf.String())
	}
}
