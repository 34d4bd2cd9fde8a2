package main

import (
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
		Long: `Run one collector until stopped: gnmi subscribes to the targets under collect.gnmi, snmp polls
those under collect.snmp, and both publish Arrow batches per device to topics.samples through
kafka. The file is the one every command reads; it is checked every collect.reload for a changed
target list, which is applied without a restart. See collectors/README.md for the section.`,
		Args:      oneOf("collect", "collector", []string{"gnmi", "snmp"}, "gnmi or snmp"),
		ValidArgs: []string{"gnmi", "snmp"},
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := requireConfig("collect", path, config.Load)
			if err != nil {
				return err
			}
			log := newConfigLogger(cmd.ErrOrStderr(), file)
			cfg, err := file.Collector()
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if listen != "" {
				cfg.HTTP.Listen = listen
				if err := cfg.HTTP.Validate(); err != nil {
					return fmt.Errorf("--http: %w", err)
				}
			}
			return httpFlagError(listen, collectors.Run(cmd.Context(), args[0], path, cfg, log))
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (YAML)")
	cmd.Flags().StringVar(&listen, "http", "", "metrics, health and /targets listen address, or \"off\" (default: the config's collect.http.listen, "+collectors.DefaultHTTP+")")
	return cmd
}
