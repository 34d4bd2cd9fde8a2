// Command gaugedays writes a synthetic IOS-XR gauge export over days: three
// routers, 4 days (Thursday 2026-11-05 to Sunday) at 10 s, one wide CSV per
// router and a labels file, for
//
//	go run ./benchmarks/gaugedays --out DIR [--seed N] [--counters]
//	telekernel eval --format wide-csv --data DIR/data --labels DIR/labels.csv
//
// It exists because no recorded data set in reach has a router's gauges
// over days: bigdama18's files span under an hour each, and NAB has no
// network gauges. What a gauge does over days (a daily and weekly traffic
// cycle, whole-unit readings, load-interval averages, an hourly job, slow
// growth) is what the detectors' false incidents come from there, so the
// export models exactly that:
//
//   - data and packet rates are what a router reports: an exponentially
//     decaying average over its load interval (rtr1 300 s, the IOS-XR
//     default; rtr2 30 s; rtr3 60 s), updated every 2 s and rounded to whole
//     kb/s and packets/s, with input and output load 0–255;
//   - two busy links per router carry Gb/s with a daily cycle (trough near
//     05:00, peak near 20:00 UTC) and a weekly one (Saturday and Sunday at
//     60 %); two sparse links carry control traffic only, about 1 and 0.3
//     packets/s of 64–300-byte frames;
//   - CPU one- and five-minute utilisation in whole percent, 3–6 %, with an
//     hourly job at :00 (about 3 minutes at ~18 %);
//   - memory used grows slowly and steps down at a process restart;
//   - inlet temperature in whole degrees with a small daily swing;
//   - bandwidth, load interval, route and neighbour counts constant, with one
//     route-count step from a real change;
//   - with --counters, a bytes-received and bytes-sent counter per link
//     (bytes since the counter's start, read every 10 s).
//
// Seven events are labelled (Events): three link downs (one with a state
// column, two without, at 30 s and 60 s load intervals), a 30-minute
// maintenance drain with the link up, a 10× traffic burst, a CPU stuck at
// 100 % and a 15 °C temperature rise. The route step and the process restart
// are real changes left unlabelled. The random numbers come from a PCG
// seeded by --seed and the router's index, so a seed always writes the same
// bytes. TestGaugeDays holds the detect stage to the figures docs/backtests.md
// reports on this export ("Gauges over days").
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	var (
		out      string
		seed     uint64
		counters bool
	)
	flag.StringVar(&out, "out", "", "folder to write data/rtrN.csv and labels.csv into (required)")
	flag.Uint64Var(&seed, "seed", 1, "seed of the random numbers")
	flag.BoolVar(&counters, "counters", false, "add bytes-received and bytes-sent counter columns for every link")
	flag.Parse()
	if out == "" {
		fmt.Fprintln(os.Stderr, "gaugedays: --out is required")
		os.Exit(2)
	}
	if err := Write(out, seed, counters); err != nil {
		fmt.Fprintln(os.Stderr, "gaugedays:", err)
		os.Exit(1)
	}
	fmt.Printf("%d routers, %d rows each (%d days at %d s), %d labelled events: %s/data, %s/labels.csv\n",
		len(routers), rows, days, step, len(Events), out, out)
}
