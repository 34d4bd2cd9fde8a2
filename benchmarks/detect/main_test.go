package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
)

// TestRunRounds runs the benchmark on a small input in two rounds against
// the real broker: it prints both rounds, medians over them, the state of
// every series, and leaves none of its topics behind.
func TestRunRounds(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	before := benchTopics(t, broker)
	var out strings.Builder
	if err := run(&out, broker, 72_000, 100, 2, 60, 2, 2, 0); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Log("\n" + got)
	for _, want := range []string{"round 1: passthrough", "round 2: passthrough", "(medians of 2 rounds)",
		"ratio detect/passthrough: ", "2 workers (last round)", "state: 3600 series"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The broker deletes topics in the background: give it 10 s.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var left []string
		for name := range benchTopics(t, broker) {
			if !before[name] {
				left = append(left, name)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topics left behind: %v", left)
		}
	}
}

// TestSpread: the median and range of the rounds' ratios, a lone round as
// it is.
func TestSpread(t *testing.T) {
	if got := spread([]float64{0.5}); got != "0.50" {
		t.Errorf("one round: %q", got)
	}
	if got := spread([]float64{0.9, 0.3, 0.5}); got != "0.50 (0.30–0.90)" {
		t.Errorf("three rounds: %q", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of four: %v", got)
	}
}

// benchTopics returns the broker's topics whose names start with "bench-".
func benchTopics(t *testing.T, broker string) map[string]bool {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	td, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, name := range td.Names() {
		if strings.HasPrefix(name, "bench-") {
			out[name] = true
		}
	}
	return out
}
