package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/backtest/nab"
	onsets "github.com/telekernel/telekernel/benchmarks/nab"
	"github.com/telekernel/telekernel/detectors/ensemble"
)

func newEvalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate the detectors on benchmarks",
	}
	cmd.AddCommand(newEvalNABCmd())
	return cmd
}

func newEvalNABCmd() *cobra.Command {
	var (
		data, labels, out, cfgPath, output string
		perFile                            bool
		workers                            int
	)
	cmd := &cobra.Command{
		Use:   "nab --data DIR --labels FILE --out DIR",
		Short: "Run the detectors over NAB-format data, write NAB's results layout and print NAB scores",
		Long: `eval nab runs the detector ensemble (one configuration for every file) over every
CATEGORY/FILE.csv under --data, one point at a time in file order, writes
OUT/telekernel/CATEGORY/telekernel_FILE.csv (timestamp,value,anomaly_score,label) so that
NAB's own scorer can score the same files, and prints the normalised NAB scores
(standard, reward_low_FP_rate, reward_low_FN_rate) from telekernel's Go scorer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if data == "" || labels == "" {
				return errors.New("eval nab: --data and --labels are required")
			}
			var cfg ensemble.Config
			if cfgPath != "" {
				b, err := os.ReadFile(cfgPath)
				if err != nil {
					return fmt.Errorf("eval nab: %w", err)
				}
				if err := yaml.Unmarshal(b, &cfg); err != nil {
					return fmt.Errorf("eval nab: cannot parse %s: %w", cfgPath, err)
				}
			}
			sh, err := ensemble.NewShared(cfg)
			if err != nil {
				return fmt.Errorf("eval nab: %w", err)
			}
			if output != string(onsets.OutputOnset) && output != string(onsets.OutputScore) {
				return fmt.Errorf("eval nab: --output %q must be onset or score", output)
			}
			c, err := nab.Load(data, labels)
			if err != nil {
				return fmt.Errorf("eval nab: %w", err)
			}
			start := time.Now()
			scores := c.Run(onsets.Ensemble(sh, onsets.Output(output)), workers)
			elapsed := time.Since(start)
			points := 0
			for _, s := range c.Series {
				points += s.Len()
			}
			if out != "" {
				if err := c.WriteResults(out, onsets.DetectorName, scores); err != nil {
					return fmt.Errorf("eval nab: %w", err)
				}
			}
			res, err := c.Evaluate(scores, nab.Profiles)
			if err != nil {
				return fmt.Errorf("eval nab: %w", err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%d files, %d points in %v (%.0f points/s on %d workers)\n", len(c.Series), points,
				elapsed.Round(time.Millisecond), float64(points)/elapsed.Seconds(), workers)
			if out != "" {
				fmt.Fprintf(w, "results: %s\n", filepath.Join(out, onsets.DetectorName))
			}
			nab.PrintScores(w, onsets.DetectorName, res)
			if perFile {
				for _, ps := range res {
					nab.PrintFiles(w, ps)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "NAB data folder (CATEGORY/FILE.csv with timestamp,value)")
	f.StringVar(&labels, "labels", "", "NAB combined_windows.json")
	f.StringVar(&out, "out", "", "results folder (NAB layout); empty: do not write")
	f.StringVarP(&cfgPath, "config", "c", "", "ensemble configuration (YAML); default: the built-in defaults")
	f.StringVar(&output, "output", string(onsets.OutputOnset), "anomaly_score column: onset (score where an alert fires) or score (every point)")
	f.BoolVar(&perFile, "files", false, "also print every file's score per profile")
	f.IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "files processed in parallel")
	return cmd
}
