package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/app"
	"github.com/telekernel/telekernel/schemas"
)

func newSimCmd() *cobra.Command {
	var (
		f     runFlags
		ticks int
	)
	cmd := &cobra.Command{
		Use:   "sim [-c FILE] (--kafka HOST:PORT | --print N)",
		Short: "Run the simulated device fleet alone, publishing samples to Kafka or printing them",
		Long: `Run the simulated fleet alone. With --kafka it publishes samples to the samples topic
(paced as in the config's sim section) and writes ground-truth labels; with --print N it prints
N ticks of samples as JSON lines on stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.apply()
			if err != nil {
				return err
			}
			if ticks > 0 {
				sc := cfg.Sim.Config
				if sc.Start.IsZero() {
					sc.Start = time.Now().Add(-cfg.Sim.Backfill).Truncate(sc.Interval)
				}
				fleet, err := sim.New(sc)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				for i := 0; i < ticks; i++ {
					fleet.Next(func(s *schemas.Sample) { err = errors.Join(err, enc.Encode(jsonSample(s))) })
				}
				return err
			}
			if len(cfg.Kafka.Brokers) == 0 {
				return errors.New("sim: give --kafka HOST:PORT to publish, or --print N to print samples")
			}
			opts := app.Options{Config: cfg, For: f.dur, Log: newLogger(cmd.ErrOrStderr(), cfg.Log), SimOnly: true}
			sum, err := app.Run(cmd.Context(), opts)
			fmt.Fprintln(cmd.OutOrStdout(), sum.String())
			return err
		},
	}
	f.register(cmd, false)
	cmd.Flags().IntVar(&ticks, "print", 0, "print this many ticks of samples as JSON lines instead of publishing")
	return cmd
}

// jsonSample is the JSON-lines form of a sample printed by `sim --print`.
func jsonSample(s *schemas.Sample) map[string]any {
	m := map[string]any{"ts": time.Unix(0, s.TS).UTC().Format(time.RFC3339Nano), "device": s.Device,
		"metric": s.Metric, "keys": s.Keys, "kind": s.Kind.String(), "source": s.Source}
	switch s.Kind {
	case schemas.KindCounter:
		m["value"] = s.U64
	case schemas.KindGauge:
		m["value"] = s.F64
	default:
		m["value"] = s.Str
	}
	return m
}
