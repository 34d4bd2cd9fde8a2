package app

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckRefusesWhatRunRefusesInventory: README "Configuration":
// `telekernel check -c FILE` fails on every config that run, stage or
// collect would refuse. A correlate.inventory file that exists but does not
// load (here a directory, and a file of invalid YAML) is refused by the
// check as by run's start (the detect, power, correlate-route and
// correlate stages all build the inventory view). Before, the check only
// looked whether the path existed.
func TestCheckRefusesWhatRunRefusesInventory(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(bad, []byte("devices: [unclosed\n  - {name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, inv := range []string{bad, dir} {
		t.Run(filepath.Base(inv), func(t *testing.T) {
			cfgFile := filepath.Join(t.TempDir(), "pipeline.yaml")
			data := "parquet: {root: " + t.TempDir() + "}\ncorrelate: {inventory: " + inv + "}\nhttp: {listen: \"off\"}\n"
			if err := os.WriteFile(cfgFile, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, checkErr := LoadConfig(cfgFile) // what `telekernel check` runs
			if checkErr != nil {
				t.Logf("check refuses it: %v", checkErr)
				return
			}
			// What run's start builds for the detect, power and correlate stages.
			_, runErr := baseInventory(&Env{Config: cfg}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if runErr != nil {
				t.Errorf("check accepts %s (correlate.inventory: %s), but run refuses it at start: %v", cfgFile, inv, runErr)
			}
		})
	}
}
