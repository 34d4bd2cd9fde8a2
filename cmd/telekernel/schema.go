package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/telekernel/telekernel/schemas"
)

func newSchemaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the data contracts and the ClickHouse DDL",
		// A mistyped subcommand is an error, not the help and exit 0.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var (
		server string
		db     string
		opts   schemas.DDLOptions
	)
	ddl := &cobra.Command{
		Use:   "ddl [--server-version X.Y.Z]",
		Short: "Print the ClickHouse DDL for a server version (modern layout by default, 18.16 fallback for old servers)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := schemas.ParseServerVersion(server)
			if err != nil {
				return fmt.Errorf("--server-version: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "-- telekernel DDL for ClickHouse %s (%s layout)\n", v, schemas.ChooseLayout(v))
			for _, stmt := range schemas.ClickHouseDDL(db, v, opts) {
				fmt.Fprintln(cmd.OutOrStdout(), strings.TrimSpace(stmt)+";\n")
			}
			return nil
		},
	}
	ddl.Flags().StringVar(&server, "server-version", "24.8.0", "ClickHouse server version the DDL is for")
	ddl.Flags().StringVar(&db, "database", "telekernel", "database name")
	ddl.Flags().IntVar(&opts.TTLDays, "ttl-days", 0, "days of data to keep on servers with TTL (0: the default)")
	ddl.Flags().StringVar(&opts.Cluster, "cluster", "", "print the cluster form ON CLUSTER NAME (Replicated and Distributed tables)")
	arrow := &cobra.Command{
		Use:   "samples",
		Short: "Print the Arrow schema of samples messages",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), schemas.SamplesSchema().String())
		},
	}
	det := &cobra.Command{
		Use:   "detection",
		Short: "Print the JSON Schema of detection events",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), string(schemas.DetectionSchemaJSON()))
		},
	}
	cmd.AddCommand(ddl, arrow, det, newSchemaApplyCmd())
	return cmd
}
