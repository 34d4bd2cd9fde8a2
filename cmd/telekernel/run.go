package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/telekernel/telekernel/app"
	"github.com/telekernel/telekernel/app/tui"
	"github.com/telekernel/telekernel/config"
)

// runFlags are the flags that override the config of `run`, `stage` and
// `sim`.
type runFlags struct {
	path       string
	dur        time.Duration
	kafka      []string
	clickhouse []string
	speed      string
	devices    int
	data       string
	http       string
	noTUI      bool

	// changed reports whether a flag was given (rather than left to its
	// default).
	changed func(name string) bool
	// adjust, when set, changes the config before it is validated (the
	// stage command narrows it to its stage: config.ParseAs).
	adjust func(*config.Config)
}

// The commands runFlags serve; each registers only the flags that apply
// to it.
const (
	forRun   = iota // the pipeline: every flag
	forStage        // one stage: no simulated fleet, no live view
	forSim          // the fleet alone: no stages, sinks or live view
)

func (f *runFlags) register(cmd *cobra.Command, use int) {
	fl := cmd.Flags()
	f.changed = fl.Changed
	configHelp := "config file (YAML); default: the embedded default"
	kafkaHelp := "Kafka bootstrap host:port list instead of the embedded broker"
	switch use {
	case forStage:
		configHelp = "config file (YAML); a stage needs its kafka.brokers (or --kafka)"
		kafkaHelp = "Kafka bootstrap host:port list instead of the config's kafka.brokers"
	case forSim:
		kafkaHelp = "Kafka bootstrap host:port list to publish to, instead of the config's kafka.brokers"
	}
	fl.StringVarP(&f.path, "config", "c", "", configHelp)
	fl.DurationVar(&f.dur, "for", 0, "stop cleanly after this long (e.g. 20s), as on SIGTERM")
	fl.StringSliceVar(&f.kafka, "kafka", nil, kafkaHelp)
	fl.StringVar(&f.http, "http", "", "metrics and health listen address, or \"off\" (default 127.0.0.1:9464)")
	if use != forStage {
		fl.StringVar(&f.speed, "speed", "", "simulated seconds per wall second, or \"max\" (default 600)")
		fl.IntVar(&f.devices, "devices", 0, "number of simulated devices (default 10; 20 with -c)")
	}
	if use != forSim {
		fl.StringSliceVar(&f.clickhouse, "clickhouse", nil, "ClickHouse native host:port; creates the tables and writes samples, detections, power, maintenance, incidents and the inventory")
		fl.StringVar(&f.data, "data", "", "Parquet output folder (default ./telekernel-data)")
	}
	if use == forRun {
		fl.BoolVar(&f.noTUI, "no-tui", false, "no live view: logs on stderr (text under a status line when stderr is a terminal, else JSON lines; log.format can choose)")
	}
}

// apply loads the config and applies the flags on top of it.
func (f *runFlags) apply() (*config.Config, error) {
	if f.dur < 0 {
		return nil, fmt.Errorf("--for: %v is not a positive duration", f.dur)
	}
	var cfg *config.Config
	var err error
	switch {
	case f.path == "":
		c := config.Default()
		cfg = &c
	case f.adjust != nil:
		cfg, err = app.LoadConfigAs(f.path, f.adjust)
	default:
		cfg, err = loadConfig(f.path)
	}
	if err != nil {
		return nil, err
	}
	if len(f.kafka) > 0 {
		cfg.Kafka.Brokers = f.kafka
	}
	if len(f.clickhouse) > 0 {
		cfg.ClickHouse.Addr = f.clickhouse
	}
	if f.data != "" {
		cfg.Parquet.Root = f.data
		cfg.Sim.LabelsFile = f.data + "/labels.jsonl"
	}
	if f.http != "" {
		cfg.HTTP.Listen = f.http
	}
	if f.changed != nil && f.changed("devices") {
		if f.devices <= 0 {
			return nil, fmt.Errorf("--devices: %d is not a positive number of devices", f.devices)
		}
		cfg.Sim.Devices = f.devices
	}
	switch f.speed {
	case "":
	case "max":
		cfg.Sim.Speed = config.Speed(math.Inf(1))
	default:
		v, err := strconv.ParseFloat(f.speed, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("--speed: %q is not a positive number or \"max\"", f.speed)
		}
		cfg.Sim.Speed = config.Speed(v)
	}
	if f.adjust != nil {
		f.adjust(cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, f.byFlag(err)
	}
	return cfg, nil
}

// flagFields are the config fields each flag sets.
var flagFields = []struct {
	flag   string
	fields []string
}{
	{"kafka", []string{"kafka.brokers"}},
	{"clickhouse", []string{"clickhouse.addr"}},
	{"data", []string{"parquet.root", "sim.labels_file"}},
	{"http", []string{"http.listen"}},
	{"devices", []string{"sim.devices"}},
	{"speed", []string{"sim.speed"}},
}

// byFlag returns the validation error err ("field: problem") as the
// error of the flag that set field, "--flag: problem": that is what the
// user typed and can change. The error of a field no flag set stays the
// config's, after "flags: " (the flags made the file's config invalid).
func (f *runFlags) byFlag(err error) error {
	field, problem, ok := strings.Cut(err.Error(), ": ")
	if ok {
		field, _, _ = strings.Cut(field, "[") // kafka.brokers[0]
		for _, ff := range flagFields {
			if f.changed != nil && f.changed(ff.flag) && slices.Contains(ff.fields, field) {
				return fmt.Errorf("--%s: %s", ff.flag, problem)
			}
		}
	}
	return fmt.Errorf("flags: %w", err)
}

// listenError returns err naming --http when run, stage or sim could not
// listen on the address --http gave (see httpFlagError).
func (f *runFlags) listenError(err error) error { return httpFlagError(f.http, err) }

// httpFlagError returns err naming --http when the process could not
// listen on addr, the address --http gave ("" when not given): the HTTP
// endpoints' error says to change http.listen (or collect.http.listen),
// which is not where the address came from. (The process's other
// listeners, the embedded broker's and the simulated devices', take any
// free port and do not fail so.)
func httpFlagError(addr string, err error) error {
	var oe *net.OpError
	if addr == "" || addr == "off" || !errors.As(err, &oe) || oe.Op != "listen" {
		return err
	}
	return fmt.Errorf("--http: cannot listen on %s: %w (give --http a free address, or off)", addr, oe.Err)
}

// started reports whether a run got as far as running (and so has a
// summary worth printing): a run that failed to start has only its error.
func started(sum app.Summary, err error) bool { return err == nil || sum.Elapsed > 0 }

// printPrevious says where the earlier run's output went, when the run
// moved it aside: even a run that then failed to start has moved it.
func printPrevious(w io.Writer, sum app.Summary) {
	if sum.Previous != "" {
		fmt.Fprintln(w, "telekernel: the earlier run's output in this data folder is now in "+sum.Previous)
	}
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [-c FILE]",
		Short: "Run the pipeline; with no arguments, the embedded default on a simulated fleet",
		Long: `Run the pipeline. With no arguments it runs everything in one process: an in-process
Kafka-protocol broker, a simulated leaf/spine fleet (replaying the last 24h at 600x, then live)
with a traffic spike, a link down, a wearing optic and fan, and ports worth switching off, and
the detect, power, maintain, inventory, parquet, alertstate and correlate stages: Parquet files
under ./telekernel-data/, detections on tk.detections, advice on tk.power and tk.maintenance,
alert states on tk.alerts and incidents on tk.incidents. The embedded broker starts at offset 0
each time, so an earlier run's output in the data folder is first moved, whole, to
DATA/_previous/TIME/. --kafka uses a real broker instead; --clickhouse adds the clickhouse stage.
On a terminal it shows a live view (q or Ctrl-C stops as SIGTERM does) and logs to
DATA/telekernel.log; --no-tui or a non-terminal logs to stderr: as text under a status
line when stderr is a terminal, else as JSON lines.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.apply()
			if err != nil {
				return err
			}
			opts := app.Options{Config: cfg, For: f.dur}
			if wantsView(f.noTUI, cmd.InOrStdin(), cmd.OutOrStdout()) {
				sum, logPath, err := runWithView(cmd.Context(), cfg, opts, cmd.InOrStdin(), cmd.OutOrStdout())
				if started(sum, err) {
					fmt.Fprintln(cmd.OutOrStdout(), sum.String())
				}
				printPrevious(cmd.OutOrStdout(), sum)
				if started(sum, err) || errors.Is(err, tui.ErrQuit) || errors.Is(err, app.ErrStoppedStarting) {
					fmt.Fprintln(cmd.OutOrStdout(), "telekernel: logs in "+logPath)
				}
				return f.listenError(err)
			}
			if fd, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(int(fd.Fd())) {
				// The log lines and the status line share the terminal.
				sl := &statusLine{w: fd}
				logCfg := cfg.Log
				if logCfg.Format == "auto" {
					logCfg.Format = "text" // newLogger cannot see the terminal behind sl
				}
				opts.Log = newLogger(sl.logs(), logCfg)
				warnDeprecated(opts.Log, cfg)
				opts.Progress = sl
			} else {
				opts.Log = newConfigLogger(cmd.ErrOrStderr(), cfg)
			}
			sum, err := app.Run(cmd.Context(), opts)
			if started(sum, err) {
				fmt.Fprintln(cmd.OutOrStdout(), sum.String())
			}
			printPrevious(cmd.OutOrStdout(), sum)
			return f.listenError(err)
		},
	}
	f.register(cmd, forRun)
	return cmd
}
