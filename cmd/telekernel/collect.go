package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/telekernel/telekernel/collectors"
	"github.com/telekernel/telekernel/config"
)

func newCollectCmd() *cobra.Command {
	var path, listen string
	cmd := &cobra.Command{
		Use:   "collect (gnmi|snmp) -c FILE",
		Short: "Run the gNMI or SNMP collector alone, publishing samples to Kafka",
		Long: `Run one collector until stopped: gnmi subscribes to the targets under gnmi:, snmp polls those
under snmp:, and both publish Arrow batches per device to the samples topic. The file is checked
every "reload" for a changed target list, which is applied without a restart. See
collectors/README.md for the configuration.`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"gnmi", "snmp"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if path == "" {
				return errors.New("collect: -c FILE is required")
			}
			cfg, err := collectors.LoadConfig(path)
			if err != nil {
				return err
			}
			if listen != "" {
				cfg.HTTP.Listen = listen
				if err := cfg.HTTP.Validate(); err != nil {
					return fmt.Errorf("--http: %w", err)
				}
			}
			log := newLogger(cmd.ErrOrStderr(), config.Log{Level: cfg.Log.Level, Format: cfg.Log.Format})
			return collectors.Run(cmd.Context(), args[0], path, cfg, log)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (YAML)")
	cmd.Flags().StringVar(&listen, "http", "", "metrics and health listen address, or \"off\" (default: http.listen of the config)")
	return cmd
}
