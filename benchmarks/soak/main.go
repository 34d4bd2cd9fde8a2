// Command soak runs `telekernel run` on a real Kafka for a long time with
// the default simulated fleet replaying history at a steady pace, samples
// the process's resident memory (RSS, from /proc) every few seconds, and
// prints the growth after warm-up: the median RSS of the last window
// against the median of the first window after warm-up, measured in the
// same run. A pipeline that keeps memory bounded shows no growth.
//
//	go run ./benchmarks/soak                          # 20 minutes on $TK_KAFKA
//	go run ./benchmarks/soak --for 2m --warmup 60s --window 20s
//	go run ./benchmarks/soak --max-growth 64          # exit 1 beyond 64 MB
//	go run ./benchmarks/soak --day                    # the embedded default over 24 h of simulated time
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/telekernel/telekernel/benchmarks/internal/benchkit"
)

func main() {
	o := Options{Log: os.Stderr}
	flag.StringVar(&o.Broker, "kafka", benchkit.EnvOr("TK_KAFKA", "127.0.0.1:9092"), "Kafka bootstrap address (default $TK_KAFKA)")
	flag.StringVar(&o.Bin, "bin", "", "telekernel binary (default: built from this checkout)")
	flag.StringVar(&o.Dir, "dir", "", "folder for the config, logs and Parquet files (default: a temporary folder, removed)")
	flag.DurationVar(&o.For, "for", 20*time.Minute, "how long to run")
	flag.DurationVar(&o.Warmup, "warmup", 5*time.Minute, "time excluded from the growth figure")
	flag.DurationVar(&o.Window, "window", time.Minute, "RSS is the median over windows this long")
	flag.DurationVar(&o.Every, "every", 5*time.Second, "RSS sampling period")
	flag.IntVar(&o.Devices, "devices", 20, "simulated devices (20 is the default fleet)")
	flag.Float64Var(&o.Speed, "speed", 600, "simulated seconds per wall second (600 is the default)")
	flag.DurationVar(&o.Backfill, "backfill", 30*24*time.Hour, "history replayed at speed; longer than for × speed keeps the load steady")
	maxGrowth := flag.Float64("max-growth", 0, "exit 1 when the growth after warm-up exceeds this many MB (0: report only)")
	day := flag.Bool("day", false, "instead: run the embedded default (in-process broker) over 24 h of simulated time and print its peak RSS")
	flag.Parse()
	f := func(ctx context.Context, o Options) error { return run(ctx, o, *maxGrowth) }
	if *day {
		f = runDay
	}
	if err := prepared(o, f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// prepare fills in the folder and the binary; the returned function
// removes a temporary folder.
func prepare(ctx context.Context, o *Options) (func(), error) {
	done := func() {}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "tk-soak-")
		if err != nil {
			return done, err
		}
		done = func() { os.RemoveAll(d) }
		o.Dir = d
	}
	if o.Bin == "" {
		bin, err := Build(ctx, o.Dir)
		if err != nil {
			return done, err
		}
		o.Bin = bin
	}
	return done, nil
}

// prepared runs f with a context that an interrupt or SIGTERM cancels,
// after prepare, and removes a temporary folder afterwards.
func prepared(o Options, f func(ctx context.Context, o Options) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done, err := prepare(ctx, &o)
	defer done()
	if err != nil {
		return err
	}
	return f(ctx, o)
}

// runDay runs the embedded default over 24 h of simulated time and prints
// its peak RSS.
func runDay(ctx context.Context, o Options) error {
	res, err := EmbeddedDay(ctx, o.Bin, o.Dir, 24*time.Hour, 2*time.Second)
	if err != nil {
		return err
	}
	sampled := int64(0)
	for _, s := range res.Samples {
		sampled = max(sampled, s.RSS)
	}
	fmt.Printf("embedded default, 24 h of simulated time at the default fleet and speed: %v, peak RSS %.1f MB (the process's maximum resident set; the largest of %d samples every 2s %.1f MB)\n  %s\n",
		res.Took.Round(time.Second), mb(res.Peak), len(res.Samples), mb(sampled), res.Summary)
	return nil
}

// run runs the soak on Kafka and prints its report; it fails when the RSS
// grew more than maxGrowth MB after warm-up (0: no limit).
func run(ctx context.Context, o Options, maxGrowth float64) error {
	res, err := Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Println(res.Report(o))
	if maxGrowth > 0 && mb(res.Growth) > maxGrowth {
		return fmt.Errorf("soak: RSS grew %.1f MB after warm-up, more than the %.0f MB allowed", mb(res.Growth), maxGrowth)
	}
	return nil
}
