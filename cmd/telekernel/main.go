// Command telekernel is the one binary of the telekernel pipeline: it runs
// the embedded default, single stages, the simulator, and the schema and
// config tools. See `telekernel help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/telekernel/telekernel/app"
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/internal/yamlfile"
	"github.com/telekernel/telekernel/schemas"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	// The first SIGINT or SIGTERM stops cleanly (sources stop; stages drain
	// what a simulator produced, or else commit their current transaction or
	// batch); a second one kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs the command line args and returns the exit code. An error is
// printed as one line on stderr; app.ErrStoppedStarting (a signal before the
// command had started) exits 0, as a stop once running does.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var el errLines
		if errors.As(err, &el) {
			for _, l := range el.lines {
				fmt.Fprintln(stderr, "telekernel: "+l)
			}
		} else {
			fmt.Fprintln(stderr, "telekernel: "+oneLine(unknownCommand(root, args, err)))
		}
		if errors.Is(err, app.ErrStoppedStarting) {
			return 0 // a stop, however early, is what was asked for
		}
		return 1
	}
	return 0
}

// stoppedBefore returns err, or, when ctx ended meanwhile (a signal), an
// error saying command name was stopped before what: a command that reads
// and exits did not do its job, but the read the stop cut short (a Kafka
// connection that "failed") is no fault to report.
func stoppedBefore(ctx context.Context, name, what string, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("%s: stopped before %s", name, what)
}

// errLines is an error of several (a config file's faults, each
// "FILE:LINE: field: problem"): execute prints each on its own line.
type errLines struct{ lines []string }

func (e errLines) Error() string { return strings.Join(e.lines, "; ") }

// fileErrors splits err, the faults of the config file path, into one
// line each. The file's parser joins them on one line, each after "; "
// and starting with the file's name; an error that is several lines is
// split at its line breaks too.
func fileErrors(path string, err error) errLines {
	var el errLines
	msg := strings.ReplaceAll(err.Error(), "; "+path+":", "\n"+path+":")
	for _, l := range strings.Split(msg, "\n") {
		if l = oneLine(l); l != "" {
			el.lines = append(el.lines, l)
		}
	}
	return el
}

// unknownCommand returns cobra's error for an unknown command as one line
// with its suggestions, `unknown command "runn" for "telekernel" (did you
// mean run?)`, and any other error's message as it is. (The root's
// DisableSuggestions leaves cobra's block of suggestions out.)
func unknownCommand(root *cobra.Command, args []string, err error) string {
	msg := err.Error()
	var name string
	if _, serr := fmt.Sscanf(msg, "unknown command %q for", &name); serr != nil {
		return msg
	}
	cmd, _, ferr := root.Find(args) // the command whose subcommand it is not
	if ferr != nil {
		cmd = root
	}
	cmd.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor does not apply
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += " (did you mean " + strings.Join(s, " or ") + "?)"
	}
	return msg
}

// flagError is every command's error for flags that do not parse, worded
// as the config's errors are: the flag first, then what is wrong and what
// to give, and for an unknown flag the nearest one the command has.
func flagError(cmd *cobra.Command, err error) error {
	var unknown *pflag.NotExistError
	var invalid *pflag.InvalidValueError
	switch {
	case errors.As(err, &unknown) && unknown.GetSpecifiedShortnames() == "":
		if near := nearestFlag(cmd, unknown.GetSpecifiedName()); near != "" {
			return fmt.Errorf("%w (did you mean --%s?)", err, near)
		}
	case errors.As(err, &invalid):
		name, v := invalid.GetFlag().Name, invalid.GetValue()
		switch invalid.GetFlag().Value.Type() {
		case "duration":
			if _, perr := strconv.ParseFloat(v, 64); perr == nil {
				return fmt.Errorf("--%s: %q is not a duration: give a unit, e.g. %ss", name, v, v)
			}
			return fmt.Errorf("--%s: %q is not a duration (e.g. 60s)", name, v)
		case "int":
			return fmt.Errorf("--%s: %q is not an integer", name, v)
		}
	}
	return err
}

// nearestFlag returns the visible flag of cmd nearest to name (as a
// config field's "did you mean": yamlfile.Suggest), or "" if none is.
func nearestFlag(cmd *cobra.Command, name string) string {
	var names []string
	visit := func(fl *pflag.Flag) {
		if !fl.Hidden {
			names = append(names, fl.Name)
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	return yamlfile.Suggest(names, name)
}

func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "telekernel",
		Short:         "Streaming telemetry analytics for network operators",
		Long:          "telekernel collects gNMI and SNMP telemetry into Kafka as Arrow batches, detects anomalies in stream stages,\nand writes results to ClickHouse, Parquet and a detection topic. `telekernel run` with no arguments runs\neverything in one process on a simulated fleet.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// unknownCommand puts the suggestions on the error's line.
		DisableSuggestions: true,
	}
	root.SetFlagErrorFunc(flagError)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newRunCmd(), newStageCmd(), newSimCmd(), newSchemaCmd(), newCheckCmd(), newVersionCmd(), newEvalCmd(), newCollectCmd(), newReportCmd(), newIncidentsCmd())
	return root
}

// loadConfig loads path, or the default config when path is empty.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		c := config.Default()
		return &c, nil
	}
	return app.LoadConfig(path)
}

// loadConfigWarning loads path as loadConfig does and, for a file, logs
// its deprecated spellings and risky settings on w, as the commands that
// run do: a command that only reads Kafka with the file's credentials
// warns of them too.
func loadConfigWarning(path string, w io.Writer) (*config.Config, error) {
	cfg, err := loadConfig(path)
	if err == nil && path != "" && w != nil {
		newConfigLogger(w, cfg)
	}
	return cfg, err
}

// requireConfig loads path with load (config.Load, or app.LoadConfig which
// also loads what a start would); an empty path is command name's error,
// as name needs -c FILE.
func requireConfig(name, path string, load func(string) (*config.Config, error)) (*config.Config, error) {
	if path == "" {
		return nil, fmt.Errorf("%s: -c FILE is required", name)
	}
	return load(path)
}

// newConfigLogger returns the logger cfg.Log asks for, writing to w, after
// logging one warning per deprecated spelling cfg was read with.
func newConfigLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	log := newLogger(w, cfg.Log)
	warnDeprecated(log, cfg)
	return log
}

// warnDeprecated logs one warning line per deprecated spelling cfg was
// read with, saying how to migrate, and per risky setting of the pipeline's
// edges (config.EdgeWarnings: TLS without verification, SASL PLAIN in the
// clear), which check prints too.
func warnDeprecated(log *slog.Logger, cfg *config.Config) {
	for _, d := range cfg.Deprecated() {
		log.Warn("deprecated config: " + d)
	}
	for _, w := range cfg.EdgeWarnings() {
		log.Warn("risky config: " + w)
	}
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	format := c.Format
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func newCheckCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check -c FILE",
		Short: "Validate a config file; errors name the line and field at fault",
		Long: `Validate a config file, the one file every command reads (run, stage, sim, collect, schema
apply). Besides the values, check loads what a start would: TLS files, passwords from files or
the environment, the listen addresses, a writable Parquet root, and, when the collect section
lists targets, that kafka.brokers is set. An error is one line, FILE:LINE: path.field: problem;
risky settings (credentials over plaintext, insecure_skip_verify, SNMPv3 below authPriv or on
MD5 or DES) and deprecated spellings (a collector-only file of earlier releases, clickhouse
password_file or tls.enable) are printed as warnings and do not fail the check.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := requireConfig("check", path, app.LoadConfig)
			if err != nil {
				return fileErrors(path, err) // each of the file's errors on its line
			}
			for _, w := range append(c.Deprecated(), c.Warnings()...) {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: warning: %s\n", path, w)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", path)
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "", "config file (YAML)")
	return cmd
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the data contract versions",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			v := version
			if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			fmt.Fprintf(cmd.OutOrStdout(), "telekernel %s (%s, %s/%s); contracts: samples v%d, detection v%d\n",
				v, runtime.Version(), runtime.GOOS, runtime.GOARCH, schemas.SamplesVersion, schemas.DetectionVersion)
		},
	}
}
