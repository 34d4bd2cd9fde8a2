package main

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/telekernel/telekernel/backtest"
)

// runEvalSim backtests every configuration on the simulated fleet of the
// sim: section of --sim (default the first --config), scored against the
// simulator's ground truth unless --labels gives other labels.
func runEvalSim(cmd *cobra.Command, f *evalFlags) error {
	if len(f.data) > 0 || f.mapping != "" || f.device != "" {
		return errors.New("eval: --format sim takes no --data, --mapping or --device (the fleet is the sim: section of --sim or the first --config)")
	}
	if f.span < 0 || f.devices < 0 || f.devices == 0 && cmd.Flags().Changed("devices") {
		return errors.New("eval: --span must not be negative and --devices must be at least 1 (leave it out for sim.devices)")
	}
	path := f.simConfig
	if path == "" && len(f.configs) > 0 {
		path = f.configs[0]
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if f.devices > 0 {
		cfg.Sim.Devices = f.devices
	}
	// The fleet run simulates: with neither file, the embedded default's
	// showcase (smaller than ShowcaseDevices, the simulator's default
	// fault).
	sc := cfg.Sim.Fleet()
	ds, err := backtest.LoadSim(sc, cmp.Or(f.span, cfg.Sim.Span, backtest.DefaultSimSpan))
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	var events []backtest.Event
	if len(f.labels) > 0 {
		if events, err = backtest.ReadLabelFiles(f.labels); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		if err := backtest.CheckDevices(events, ds.Devices); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	return evalPrint(cmd, f, ds, events)
}
