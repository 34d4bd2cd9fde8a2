package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options configure one soak run.
type Options struct {
	Bin    string        // telekernel binary
	Broker string        // real Kafka bootstrap address
	Dir    string        // folder for the config, Parquet files and logs
	For    time.Duration // total run time
	Warmup time.Duration // time excluded from the growth figure
	Window time.Duration // RSS is the median over a window this long
	Every  time.Duration // RSS sampling period
	// Devices and Speed shape the simulated fleet: the default fleet,
	// replaying Backfill of history at Speed for the whole run, so the
	// pipeline is under the same load throughout.
	Devices  int
	Speed    float64
	Backfill time.Duration
	Log      io.Writer // progress lines; nil for none
}

// RSSSample is the resident set size of the process at a time since start.
type RSSSample struct {
	At  time.Duration
	RSS int64 // bytes
}

// Result is what a soak run measured.
type Result struct {
	Samples []RSSSample
	// AfterWarmup is the median RSS over the first window after warm-up
	// (the baseline), End the median over the last window, Peak the
	// largest sample after warm-up.
	AfterWarmup, End, Peak int64
	Growth                 int64   // End - AfterWarmup
	GrowthPerHour          float64 // Growth scaled to an hour between the two windows' midpoints
	Summary                string  // the run's summary line
}

// Run starts `telekernel run` on the real Kafka with unique topics, samples
// its RSS every o.Every from /proc, stops it with SIGTERM after o.For and
// returns the measurement.
func Run(ctx context.Context, o Options) (Result, error) {
	var res Result
	if o.Warmup+2*o.Window > o.For {
		return res, fmt.Errorf("soak: for %v is shorter than warm-up %v plus two windows of %v", o.For, o.Warmup, o.Window)
	}
	cfg, err := writeConfig(o)
	if err != nil {
		return res, err
	}
	logf, err := os.Create(filepath.Join(o.Dir, "telekernel.log"))
	if err != nil {
		return res, fmt.Errorf("soak: %w", err)
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, o.Bin, "run", "-c", cfg)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("soak: cannot start %s: %w", o.Bin, err)
	}
	summary := make(chan string, 1)
	go func() {
		var last string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				last = l
			}
		}
		summary <- last
	}()
	start := time.Now()
	tick := time.NewTicker(o.Every)
	defer tick.Stop()
	for time.Since(start) < o.For {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return res, ctx.Err()
		case <-tick.C:
		}
		rss, err := readRSS(cmd.Process.Pid)
		if err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return res, fmt.Errorf("soak: the process stopped after %v (see %s): %w", time.Since(start).Round(time.Second), logf.Name(), err)
		}
		res.Samples = append(res.Samples, RSSSample{At: time.Since(start), RSS: rss})
		if o.Log != nil {
			fmt.Fprintf(o.Log, "%6.0fs  rss %7.1f MB\n", time.Since(start).Seconds(), mb(rss))
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	waitErr := cmd.Wait()
	res.Summary = <-summary
	if waitErr != nil {
		return res, fmt.Errorf("soak: telekernel run exited with %v (see %s)", waitErr, logf.Name())
	}
	res.compute(o)
	return res, nil
}

// compute derives the figures from the samples.
func (r *Result) compute(o Options) {
	window := func(from, to time.Duration) []int64 {
		var v []int64
		for _, s := range r.Samples {
			if s.At >= from && s.At < to {
				v = append(v, s.RSS)
			}
		}
		return v
	}
	last := r.Samples[len(r.Samples)-1].At
	r.AfterWarmup = median(window(o.Warmup, o.Warmup+o.Window))
	r.End = median(window(last-o.Window, last+1))
	for _, s := range r.Samples {
		if s.At >= o.Warmup {
			r.Peak = max(r.Peak, s.RSS)
		}
	}
	r.Growth = r.End - r.AfterWarmup
	span := (last - o.Window/2) - (o.Warmup + o.Window/2)
	if span > 0 {
		r.GrowthPerHour = float64(r.Growth) / span.Hours()
	}
}

func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// readRSS reads VmRSS of a process from /proc.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS (zombie process?)")
}

// writeConfig writes the run's config: the real Kafka, topics and groups of
// its own, Parquet under Dir, no HTTP endpoint.
func writeConfig(o Options) (string, error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := "soak-" + hex.EncodeToString(b)
	cfg := fmt.Sprintf(`kafka:
  brokers: [%s]
topics:
  samples: %[2]s.samples
  detections: %[2]s.detections
  dead_letters: %[2]s.deadletters
  power: %[2]s.power
  maintenance: %[2]s.maintenance
  alert_state: %[2]s.alerts
  group_prefix: %[2]s
inventory: {topic: %[2]s.inventory}
correlate: {topic: %[2]s.incidents, input: %[2]s.incidents.input}
parquet:
  root: %[3]s
sim:
  devices: %[4]d
  speed: %[5]g
  backfill: %[6]s
  labels_file: %[7]s
http:
  listen: "off"
log:
  format: json
`, o.Broker, id, filepath.Join(o.Dir, "data"), o.Devices, o.Speed, o.Backfill, filepath.Join(o.Dir, "labels.jsonl"))
	p := filepath.Join(o.Dir, "soak.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		return "", fmt.Errorf("soak: %w", err)
	}
	return p, nil
}

// Build builds the telekernel binary into dir and returns its path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "telekernel")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/telekernel/telekernel/cmd/telekernel").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("soak: go build: %v\n%s", err, out)
	}
	return bin, nil
}

// Report is the figure printed at the end.
func (r Result) Report(o Options) string {
	return fmt.Sprintf("soak: %v on real Kafka, %d devices at speed %g (backfill %v), RSS sampled every %v (%d samples), median over %v windows:\n"+
		"  RSS after %v warm-up (baseline) : %7.1f MB\n"+
		"  RSS in the last window          : %7.1f MB\n"+
		"  growth after warm-up            : %+7.1f MB (%+.1f MB/h)\n"+
		"  peak after warm-up              : %7.1f MB\n"+
		"  %s",
		o.For, o.Devices, o.Speed, o.Backfill, o.Every, len(r.Samples), o.Window,
		o.Warmup, mb(r.AfterWarmup), mb(r.End), mb(r.Growth), mb(int64(r.GrowthPerHour)), mb(r.Peak), r.Summary)
}

// DayResult is what EmbeddedDay measured.
type DayResult struct {
	Samples []RSSSample
	// Peak is the process's largest resident set (the kernel's maximum
	// RSS at its exit), which a peak between two samples also reaches; at
	// least the largest sample.
	Peak    int64
	Summary string // the run's summary line
	Took    time.Duration
}

// EmbeddedDay runs the embedded default (in-process broker, default fleet
// and speed) over span of simulated time (sim.span: the replay of the last
// span, then the process drains and exits) and samples its RSS every
// every.
func EmbeddedDay(ctx context.Context, bin, dir string, span, every time.Duration) (DayResult, error) {
	var res DayResult
	cfg := filepath.Join(dir, "day.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`parquet:
  root: %s
sim:
  backfill: %s
  span: %[2]s
  labels_file: %s
http:
  listen: "off"
`, filepath.Join(dir, "day-data"), span, filepath.Join(dir, "day-labels.jsonl"))), 0o644); err != nil {
		return res, fmt.Errorf("soak: %w", err)
	}
	var out strings.Builder
	cmd := exec.CommandContext(ctx, bin, "run", "-c", cfg)
	cmd.Stdout = &out
	errf, err := os.Create(filepath.Join(dir, "day.log"))
	if err != nil {
		return res, fmt.Errorf("soak: %w", err)
	}
	defer errf.Close()
	cmd.Stderr = errf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("soak: cannot start %s: %w", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			res.Took = time.Since(start)
			res.Summary = strings.TrimSpace(out.String())
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				res.Peak = max(res.Peak, ru.Maxrss<<10) // kilobytes on Linux
			}
			if err != nil {
				return res, fmt.Errorf("soak: telekernel run exited with %v (see %s)", err, errf.Name())
			}
			return res, nil
		case <-tick.C:
			if rss, err := readRSS(cmd.Process.Pid); err == nil {
				res.Samples = append(res.Samples, RSSSample{At: time.Since(start), RSS: rss})
				res.Peak = max(res.Peak, rss)
			}
		}
	}
}
