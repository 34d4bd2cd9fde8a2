package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/telekernel/telekernel/backtest"
	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/config"
)

// evalFlags are the flags of eval and eval nab.
type evalFlags struct {
	data, labels, configs []string
	format, mapping       string
	device                string
	asJSON, verbose       bool
	// Format sim.
	simConfig string
	span      time.Duration
	devices   int
}

func newEvalCmd() *cobra.Command {
	var f evalFlags
	cmd := &cobra.Command{
		Use:   "eval (--data PATH --format parquet|nab|wide-csv | --format sim [--span D] [--devices N]) [--labels FILE] [--config A [--config B]] [--json]",
		Short: "Backtest the detect stage on recorded telemetry and score it against labelled events",
		Long: `eval replays recorded samples in event time through the detect stage's own code, with the
detect: section of each --config (the default configuration when none), and prints per labelled
event the latency to the first firing detection on its device, missed events, false incidents
per device-hour and, for NAB data, NAB's scores. Two --config flags run both configurations on
the same data side by side. Formats: parquet (the lake ROOT/samples/dt=…/), nab (CATEGORY/FILE.csv,
--labels combined_windows.json), wide-csv (one file per device, a time column and one column per
feature, counters, gauges or states, named as IOS-XR exports them, by gNMI paths such as
/interfaces/interface[name=Ethernet1]/state/oper-status or as Prometheus series such as
ifOperStatus{ifName="Ethernet1"}, a file of several instances' series being one device per
instance; --mapping FILE overrides the metric mapping). Labels: the
simulator's labels.jsonl, or CSV with a header (device or node, start, end, optional interface,
keys, kind or event; epoch seconds or milliseconds, RFC 3339 or YYYY-MM-DD HH:MM:SS), such as
bigdama18's labels/EXPERIMENT.csv. Progress goes to stderr.

Format sim needs no --data: it runs the simulated fleet of the sim: section of --sim FILE (default:
the first --config; its devices, interfaces, interval, seed, start, topology and faults, as
"telekernel run" would; with neither, the embedded default's fleet and faults, as "telekernel run"
with no arguments, or with --devices below 10 the simulator's default fault) in memory, as fast as the detect stage takes, for --span (default the
section's span, else 24h) from its start (default 2026-01-05T00:00:00Z), and scores the detections
against the simulator's own ground truth: per fault kind the stage meant to catch it, detected
and missed faults, latencies, and false incidents per 100 device-hours. --labels replaces that
ground truth with a labels file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runEval(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.data, "data", nil, "recorded data: files or folders (repeatable)")
	fl.StringVar(&f.format, "format", "", "format of --data: "+strings.Join(backtest.Formats, ", "))
	fl.StringSliceVar(&f.labels, "labels", nil, "labelled events: files or folders (repeatable); for nab, combined_windows.json")
	fl.StringArrayVarP(&f.configs, "config", "c", nil, "telekernel configuration whose detect: section to run (repeatable: side by side)")
	fl.StringVar(&f.mapping, "mapping", "", "wide-csv: YAML override of the column mapping")
	fl.StringVar(&f.device, "device", "", "wide-csv: the device of every file and column (default: from each file name, or a Prometheus series' instance)")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON instead of tables")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log every detection to stderr")
	fl.StringVar(&f.simConfig, "sim", "", "sim: the configuration whose sim: section to simulate (default: the first --config)")
	fl.DurationVar(&f.span, "span", 0, "sim: simulated time to replay (default: sim.span, else 24h)")
	fl.IntVar(&f.devices, "devices", 0, "sim: number of simulated devices (default: sim.devices)")
	cmd.AddCommand(newEvalNABCmd())
	return cmd
}

// runEval loads the data, labels and configurations, replays, and prints.
func runEval(cmd *cobra.Command, f *evalFlags) error {
	if f.format == backtest.FormatSim {
		return runEvalSim(cmd, f)
	}
	if len(f.data) == 0 || f.format == "" {
		return errors.New("eval: --data and --format are required")
	}
	if fl := cmd.Flags(); fl.Changed("sim") || fl.Changed("span") || fl.Changed("devices") {
		return fmt.Errorf("eval: --format %s takes no --sim, --span or --devices (they set the fleet of --format sim)", f.format)
	}
	m := backtest.DefaultMapping()
	if f.mapping != "" {
		var err error
		if m, err = backtest.LoadMapping(f.mapping); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if f.device != "" {
		m.Device = f.device
	}
	nabLabels := ""
	if f.format == backtest.FormatNAB && len(f.labels) > 0 {
		if len(f.labels) != 1 {
			return errors.New("eval: nab takes one --labels combined_windows.json")
		}
		nabLabels = f.labels[0]
	}
	ds, err := backtest.LoadDataset(f.format, f.data, m, nabLabels)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	var events []backtest.Event
	switch {
	case ds.Corpus != nil:
		events = backtest.NABEvents(ds.Corpus)
	case len(f.labels) > 0:
		if events, err = backtest.ReadLabelFiles(f.labels); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		if ds.Devices != nil {
			if err := backtest.CheckDevices(events, ds.Devices); err != nil {
				return fmt.Errorf("eval: %w", err)
			}
		}
	}
	return evalPrint(cmd, f, ds, events)
}

// evalPrint runs every configuration on ds and prints the results.
func evalPrint(cmd *cobra.Command, f *evalFlags, ds *backtest.Dataset, events []backtest.Event) error {
	results, err := evalConfigs(cmd, f, ds, events)
	if err != nil {
		return err
	}
	if f.asJSON {
		return backtest.PrintJSON(cmd.OutOrStdout(), results)
	}
	return backtest.PrintTable(cmd.OutOrStdout(), results)
}

// evalConfigs runs every configuration (the default when none) on ds.
func evalConfigs(cmd *cobra.Command, f *evalFlags, ds *backtest.Dataset, events []backtest.Event) ([]*backtest.Result, error) {
	configs := f.configs
	if len(configs) == 0 {
		configs = []string{""}
	}
	stderr := cmd.ErrOrStderr()
	lvl := "warn"
	if f.verbose {
		lvl = "info"
	}
	log := newLogger(stderr, config.Log{Level: lvl, Format: "text"})
	var results []*backtest.Result
	for _, path := range configs {
		cfg, err := loadConfig(path)
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		name := "default"
		if path != "" {
			name = filepath.Base(path)
		}
		r, err := backtest.Evaluate(cmd.Context(), name, cfg.Detect, ds, events, backtest.WithLogger(log),
			backtest.WithProgress(5*time.Second, progress(stderr, name, ds.Span)))
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		progress(stderr, name, ds.Span)(r.Stats)
		results = append(results, r)
	}
	return results, nil
}

// progress returns a progress function printing one line to w; with a
// simulated span, how much of it the replay has simulated.
func progress(w io.Writer, name string, span time.Duration) func(backtest.Stats) {
	return func(st backtest.Stats) {
		line := backtest.ProgressLine(st)
		if span > 0 {
			line += fmt.Sprintf(", simulated %.1f of %.1f h", backtest.SimulatedHours(st), span.Hours())
		}
		fmt.Fprintf(w, "%s: %s\n", name, line)
	}
}

// newEvalNABCmd is eval on NAB data with NAB's results layout: the detect
// stage's firing detections as onsets.
func newEvalNABCmd() *cobra.Command {
	var (
		data, labels, out, cfgPath string
		perFile                    bool
	)
	cmd := &cobra.Command{
		Use:   "nab --data DIR --labels FILE [--out DIR] [-c FILE]",
		Short: "Run the detect stage over NAB-format data, write NAB's results layout and print NAB scores",
		Long: `eval nab replays every CATEGORY/FILE.csv under --data through the detect stage (the
detect: section of -c FILE, the default configuration when none), each file a gauge series of its
own device, writes OUT/telekernel/CATEGORY/telekernel_FILE.csv (timestamp,value,anomaly_score,label;
the score of each firing detection on its row, 0 elsewhere) so that NAB's own scorer can score the
same files, and prints the normalised NAB scores (standard, reward_low_FP_rate, reward_low_FN_rate).
It is eval --format nab with NAB's output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if data == "" || labels == "" {
				return errors.New("eval nab: --data and --labels are required")
			}
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return fmt.Errorf("eval nab: %w", err)
			}
			ds, err := backtest.LoadDataset(backtest.FormatNAB, []string{data}, nil, labels)
			if err != nil {
				return fmt.Errorf("eval nab: %w", err)
			}
			log := newLogger(cmd.ErrOrStderr(), config.Log{Level: "warn", Format: "text"})
			r, err := backtest.Evaluate(cmd.Context(), "telekernel", cfg.Detect, ds, nil, backtest.WithLogger(log))
			if err != nil {
				return fmt.Errorf("eval nab: %w", err)
			}
			return printNAB(cmd.OutOrStdout(), ds.Corpus, r, out, perFile)
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "NAB data folder (CATEGORY/FILE.csv with timestamp,value)")
	f.StringVar(&labels, "labels", "", "NAB combined_windows.json")
	f.StringVar(&out, "out", "", "results folder (NAB layout); empty: do not write")
	f.StringVarP(&cfgPath, "config", "c", "", "telekernel configuration whose detect: section to run; default: the built-in defaults")
	f.BoolVar(&perFile, "files", false, "also print every file's score per profile")
	return cmd
}

// nabDetector is the name NAB results are written under.
const nabDetector = "telekernel"

// printNAB writes the NAB results layout (when out is set) and the scores.
func printNAB(w io.Writer, c *nab.Corpus, r *backtest.Result, out string, perFile bool) error {
	st := &r.Stats
	fmt.Fprintf(w, "%d files, %d points in %v (%.0f points/s), %d firing detections\n", len(c.Series), st.Points,
		st.Elapsed.Round(time.Millisecond), st.Rate(), st.Firing)
	if out != "" {
		if err := c.WriteResults(out, nabDetector, backtest.NABScores(c, r.Detections)); err != nil {
			return fmt.Errorf("eval nab: %w", err)
		}
		fmt.Fprintf(w, "results: %s\n", filepath.Join(out, nabDetector))
	}
	nab.PrintScores(w, nabDetector, r.NAB)
	if perFile {
		for _, ps := range r.NAB {
			nab.PrintFiles(w, ps)
		}
	}
	return nil
}
