package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/telekernel/telekernel/app"
	"github.com/telekernel/telekernel/config"
)

func newStageCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "stage NAME -c FILE",
		Short: "Run one stage (" + strings.Join(app.StageNames(), ", ") + ") against a real Kafka until stopped",
		Long: `Run one stage of the pipeline in this process, as a member of its consumer group, until
SIGINT or SIGTERM (then it ends its current transaction or batch early, commits it and exits,
within 10 s; it does not wait for the backlog). Start more processes with the
same config to scale out: Kafka shares the partitions between them, and the detect stage
restores each moved partition's detector state from its changelog topic before processing it.`,
		Args: oneOf("stage", "stage", app.StageNames(), "one of "+strings.Join(app.StageNames(), ", ")),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			// The file is the pipeline's, with every stage: this process
			// runs one, so it is checked as that stage's alone (another
			// stage's Parquet folder need not exist on this host).
			f.adjust = func(c *config.Config) {
				c.Stages = []string{name}
				off := false
				c.Sim.Enabled = &off
				enabled := true // naming the stage enables it
				c.Parquet.Enabled = &enabled
			}
			cfg, err := f.apply()
			if err != nil {
				return err
			}
			if len(cfg.Kafka.Brokers) == 0 {
				return fmt.Errorf("stage %s: kafka.brokers is empty (a stage runs against a real Kafka; give -c FILE or --kafka)", name)
			}
			if err := app.CheckStage(cfg, name); err != nil {
				return fmt.Errorf("stage %s: %w", name, err)
			}
			log := newConfigLogger(cmd.ErrOrStderr(), cfg)
			sum, err := app.Run(cmd.Context(), app.Options{Config: cfg, For: f.dur, Log: log})
			if started(sum, err) {
				fmt.Fprintln(cmd.OutOrStdout(), sum.StageString())
			}
			return f.listenError(err)
		},
	}
	f.register(cmd, forStage)
	return cmd
}

// oneOf returns the check of a command's one positional argument, a
// what that must be one of choices (worded as list, e.g. "gnmi or snmp"):
// a missing, extra or unknown one is one line of cmd naming the choices,
// not cobra's wording.
func oneOf(cmd, what string, choices []string, list string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return fmt.Errorf("%s: give the %s to run, %s", cmd, what, list)
		case len(args) > 1:
			return fmt.Errorf("%s: give one %s to run, %s", cmd, what, list)
		case !slices.Contains(choices, args[0]):
			return fmt.Errorf("%s: %q is not %s", cmd, args[0], list)
		}
		return nil
	}
}
