package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/telekernel/telekernel/app"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

func newSimCmd() *cobra.Command {
	var (
		f     runFlags
		ticks int
		serve simServe
	)
	cmd := &cobra.Command{
		Use:   "sim [-c FILE] (--serve DIR | --kafka HOST:PORT | --print N)",
		Short: "Run the simulated device fleet alone: as gNMI and SNMP devices, publishing to Kafka, or printing",
		Long: `Run the simulated fleet alone.

With --serve DIR every device is a gNMI server (ports from --gnmi-port, or any free ones; TLS with
--tls) and answers SNMP v2c on one UDP socket (--snmp-addr; the community is the device name). DIR
receives labels.jsonl (the ground truth of injected faults) and collector configs
collect-gnmi.yaml and collect-snmp.yaml for "telekernel collect gnmi|snmp -c FILE" (their Kafka is
--kafka, default 127.0.0.1:9092). The fleet steps as in the config's sim section (--speed).

With --kafka alone it collects the fleet over gNMI in process and publishes samples to the samples
topic, as "telekernel run" does; with --print N it prints N ticks of samples as JSON lines.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.apply()
			if err != nil {
				return err
			}
			if ticks > 0 {
				sc := cfg.Sim.Fleet()
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
			if serve.dir != "" {
				ctx := cmd.Context()
				if f.dur > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, f.dur)
					defer cancel()
				}
				return serveFleet(ctx, cfg, serve, cmd.OutOrStdout(), newConfigLogger(cmd.ErrOrStderr(), cfg))
			}
			if len(cfg.Kafka.Brokers) == 0 {
				return errors.New("sim: give --serve DIR to serve the devices, --kafka HOST:PORT to publish, or --print N to print samples")
			}
			// sim publishes the fleet, whatever the file says of the
			// simulator in a run (a pipeline's file, reused for its kafka
			// section, may turn it off).
			on := true
			cfg.Sim.Enabled = &on
			opts := app.Options{Config: cfg, For: f.dur, Log: newConfigLogger(cmd.ErrOrStderr(), cfg), SimOnly: true}
			sum, err := app.Run(cmd.Context(), opts)
			if started(sum, err) {
				fmt.Fprintln(cmd.OutOrStdout(), sum.String())
			}
			return f.listenError(err)
		},
	}
	f.register(cmd, forSim)
	cmd.Flags().IntVar(&ticks, "print", 0, "print this many ticks of samples as JSON lines instead of publishing")
	cmd.Flags().StringVar(&serve.dir, "serve", "", "serve the fleet as gNMI and SNMP devices; write labels and collector configs into this folder")
	cmd.Flags().IntVar(&serve.gnmiPort, "gnmi-port", 0, "with --serve: gNMI port of the first device, the next ones follow (default any free port)")
	cmd.Flags().StringVar(&serve.snmpAddr, "snmp-addr", "127.0.0.1:0", "with --serve: UDP address of the SNMP responder")
	cmd.Flags().BoolVar(&serve.tls, "tls", false, "with --serve: serve gNMI over TLS with a generated CA (in DIR/pki)")
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
