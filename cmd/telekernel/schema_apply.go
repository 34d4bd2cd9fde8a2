package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

// newSchemaApplyCmd returns `telekernel schema apply`: create or migrate
// the ClickHouse database, tables and rollup views idempotently.
func newSchemaApplyCmd() *cobra.Command {
	var (
		cfgPath string
		c       clickhouse.Config
		timeout time.Duration
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "apply [-c FILE] [--addr HOST:PORT] [--database NAME] [--cluster NAME]",
		Short: "Create or migrate the ClickHouse tables and rollups (idempotent)",
		Long: `Create or migrate the ClickHouse database, the samples, detections, power,
maintenance, incidents, incident_members, inventory, inventory_links and schema_version
tables and the per-minute and per-hour rollups (samples_1m, samples_1h) with
their materialized views, in the layout the server's version supports (modern from
21.8, legacy below). Existing tables keep their layout; columns they lack are added.
Running it again changes nothing. The connection comes from the clickhouse section
of --config, then from the flags. With --cluster NAME (or clickhouse.cluster) every
statement runs ON CLUSTER NAME: Replicated tables per node (samples_local, ...) and
Distributed tables with the plain names over them, which queries and inserts use.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath != "" {
				cfg, err := loadConfig(cfgPath)
				if err != nil {
					return err
				}
				// The file gives the connection; flags given on the command
				// line win (a --password-file replaces the file's password).
				newConfigLogger(cmd.ErrOrStderr(), cfg)
				c = mergeFlags(cfg.ClickHouse.Config, c, cmd.Flags().Changed)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			var opts []clickhouse.Option
			if verbose {
				opts = append(opts, clickhouse.WithLogger(newLogger(cmd.ErrOrStderr(), config.Log{Level: "info", Format: "text"})))
			}
			s, err := clickhouse.New(ctx, c, opts...)
			if err != nil {
				return err
			}
			defer s.Close()
			rep, err := s.Apply(ctx)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "clickhouse %s: database %s, %s layout for new tables\n", rep.ServerVersion, s.Database(), rep.Layout)
			if !rep.Changed() {
				fmt.Fprintln(out, "up to date: nothing to create or migrate")
				return nil
			}
			if len(rep.Created) > 0 {
				fmt.Fprintf(out, "created: %s\n", strings.Join(rep.Created, ", "))
			}
			if len(rep.Added) > 0 {
				fmt.Fprintf(out, "added columns: %s\n", strings.Join(rep.Added, ", "))
			}
			if len(rep.Replaced) > 0 {
				fmt.Fprintf(out, "replaced views: %s (rollup views of an earlier build; their tables and rows are kept)\n", strings.Join(rep.Replaced, ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&cfgPath, "config", "c", "", "telekernel YAML config whose clickhouse section to use")
	f.StringSliceVar(&c.Addr, "addr", []string{clickhouse.DefaultAddr}, "ClickHouse native-protocol address(es)")
	f.StringVar(&c.Database, "database", clickhouse.DefaultDatabase, "database")
	f.StringVar(&c.Username, "username", clickhouse.DefaultUsername, "user")
	f.StringVar(&c.Password.File, "password-file", "", "file holding the password")
	f.StringVar(&c.Layout, "layout", "auto", "layout of new tables: auto, modern or legacy")
	f.IntVar(&c.TTLDays, "ttl-days", 0, "samples retention in days on the modern layout (0: 30, -1: forever)")
	f.IntVar(&c.DetectionsTTLDays, "detections-ttl-days", 0, "detections retention in days on the modern layout (0: forever)")
	f.StringVar(&c.Cluster, "cluster", "", "create the cluster form ON CLUSTER NAME: Replicated per-node tables under Distributed tables (default: the config's clickhouse.cluster, else a single server)")
	f.DurationVar(&timeout, "timeout", time.Minute, "give up after this long")
	f.BoolVarP(&verbose, "verbose", "v", false, "log what is done")
	return cmd
}

// mergeFlags returns base (the config file's clickhouse section) with the
// settings of flags whose flag was given on the command line; addr,
// database and username also fill in what the file leaves empty.
func mergeFlags(base, flags clickhouse.Config, changed func(string) bool) clickhouse.Config {
	if changed("addr") || len(base.Addr) == 0 {
		base.Addr = flags.Addr
	}
	if changed("database") || base.Database == "" {
		base.Database = flags.Database
	}
	if changed("username") || base.Username == "" {
		base.Username = flags.Username
	}
	if changed("password-file") {
		base.Password, base.PasswordFile = flags.Password, ""
	}
	if changed("cluster") {
		base.Cluster = flags.Cluster
	}
	if changed("layout") || base.Layout == "" {
		base.Layout = flags.Layout
	}
	if changed("ttl-days") {
		base.TTLDays = flags.TTLDays
	}
	if changed("detections-ttl-days") {
		base.DetectionsTTLDays = flags.DetectionsTTLDays
	}
	return base
}
