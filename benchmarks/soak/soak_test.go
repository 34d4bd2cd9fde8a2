package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
)

// shortMaxGrowth is the RSS growth after warm-up that the 2-minute soak
// tolerates, in MB (docs/how-it-works.md, "Memory of the embedded default"): the Go heap's own swing between GC
// cycles on this load, measured well below it.
const shortMaxGrowth = 64

// TestSoakShort is the 2-minute version of the soak benchmark that `make
// test` runs: `telekernel run` on the real Kafka with the default fleet
// replaying history at speed 600; after a 60 s warm-up the median RSS of
// the last 20 s may exceed the first 20 s after warm-up by at most
// shortMaxGrowth MB.
func TestSoakShort(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	if testing.Short() {
		t.Skip("2-minute soak skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin, err := Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Bin: bin, Broker: broker, Dir: dir, For: 2 * time.Minute, Warmup: 60 * time.Second, Window: 20 * time.Second,
		Every: 2 * time.Second, Devices: 20, Speed: 600, Backfill: 30 * 24 * time.Hour}
	if testing.Verbose() {
		o.Log = os.Stderr
	}
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Report(o))
	if len(res.Samples) < 50 {
		t.Fatalf("only %d RSS samples in 2 minutes", len(res.Samples))
	}
	if g := mb(res.Growth); g > shortMaxGrowth {
		t.Errorf("RSS grew %.1f MB after warm-up, more than the %d MB tolerated", g, shortMaxGrowth)
	}
}

// dayMaxRSS is the bound on the embedded default's RSS over a day of
// simulated time (docs/how-it-works.md, "Memory of the embedded default").
const dayMaxRSS = 1 << 30

// TestEmbeddedDay runs the embedded default (in-process broker, the
// showcase fleet of 10 devices at speed 600) over 24 h of simulated time:
// its RSS must stay under 1 GiB throughout.
func TestEmbeddedDay(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated day (about 2.5 minutes) skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin, err := Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := EmbeddedDay(ctx, bin, dir, 24*time.Hour, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("24 h simulated in %v, peak RSS %.1f MB over %d samples; %s", res.Took.Round(time.Second), mb(res.Peak), len(res.Samples), res.Summary)
	if len(res.Samples) < 10 {
		t.Fatalf("only %d RSS samples", len(res.Samples))
	}
	if res.Peak >= dayMaxRSS {
		t.Errorf("peak RSS %.1f MB, bound %.0f MB", mb(res.Peak), mb(dayMaxRSS))
	}
}
