package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/correlate"
)

func newIncidentsCmd() *cobra.Command {
	var (
		path, topic         string
		brokers             []string
		all, merged, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "incidents -c FILE | --kafka HOST:PORT",
		Short: "List the open incidents of the incidents topic (latest state of each; --all includes resolved)",
		Long: `List incidents from the correlate stage's compacted topic (correlate.topic, default tk.incidents):
the latest update of each incident id, open ones only unless --all, oldest first. An incident
merged into another (its last update names the incident that absorbed it, whose evidence now
holds its detections) is hidden unless --merged. The table shows
the id, state, severity, when it opened (event time), the rule, the confidence, the probable cause
and the suggested action; --json prints the incidents as a JSON array in the topic's contract.
It reads the topic from its start to its end as of the call (read-committed) and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfigWarning(path, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if len(brokers) > 0 {
				cfg.Kafka.Brokers = brokers
			}
			if len(cfg.Kafka.Brokers) == 0 {
				return errors.New("incidents: kafka.brokers is empty (give -c FILE or --kafka)")
			}
			if topic == "" {
				topic = cfg.Correlate.Topic
			}
			incs, skipped, err := correlate.ReadIncidents(cmd.Context(), cfg.Kafka, topic)
			if err != nil {
				return stoppedBefore(cmd.Context(), "incidents", "the incidents were read", fmt.Errorf("cannot list incidents: %w", err))
			}
			if skipped > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "telekernel: skipped %d records of %s that are not incidents this build reads\n", skipped, topic)
			}
			incs = slices.DeleteFunc(incs, func(in *schemas.Incident) bool {
				return !all && in.State != schemas.IncidentOpen || !merged && in.MergedInto != ""
			})
			if asJSON {
				return printIncidentsJSON(cmd.OutOrStdout(), incs)
			}
			return printIncidents(cmd.OutOrStdout(), incs)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&path, "config", "c", "", "config file (YAML) naming kafka: and correlate.topic")
	fl.StringSliceVar(&brokers, "kafka", nil, "Kafka bootstrap host:port list (instead of the config's)")
	fl.StringVar(&topic, "topic", "", "incidents topic (default correlate.topic, tk.incidents)")
	fl.BoolVar(&all, "all", false, "include resolved incidents")
	fl.BoolVar(&merged, "merged", false, "include incidents merged into another (with --all: they are resolved)")
	fl.BoolVar(&asJSON, "json", false, "print a JSON array of incidents instead of a table")
	return cmd
}

// printIncidents writes incs as a table.
func printIncidents(w io.Writer, incs []*schemas.Incident) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSEVERITY\tOPENED\tRULE\tCONF\tEVIDENCE\tCAUSE\tACTION")
	for _, in := range incs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.2f\t%d\t%s\t%s\n", in.ID, in.State, in.Severity, in.OpenedAt.UTC().Format(time.DateTime),
			in.Rule, in.Confidence, len(in.Evidence)+in.EvidenceOmitted, in.Cause, in.Action)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(incs) == 0 {
		_, err := fmt.Fprintln(w, "(no incidents)")
		return err
	}
	return nil
}

// printIncidentsJSON writes incs as one JSON array.
func printIncidentsJSON(w io.Writer, incs []*schemas.Incident) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(incs)
}
