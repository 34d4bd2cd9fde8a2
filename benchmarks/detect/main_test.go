package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/pipeline"
)

// TestRunRounds runs the benchmark on a small input in two rounds against
// the real broker: it prints both rounds, medians over them, the state of
// every series, and leaves none of its topics behind.
func TestRunRounds(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	before := benchTopics(t, broker)
	var out strings.Builder
	if err := run(&out, broker, 72_000, sim.Config{Devices: 100}, 2, 60, 2, 2, pipeline.TransactionConfig{}); err != nil {
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

// TestPassthroughCopiesAll: the baseline writes every record it reads,
// even when they come faster than one batch may hold (records of 300 KB
// that do not compress, 12 MB to one partition at once: with batches
// larger than the broker's message.max.bytes it lost most of them).
func TestPassthroughCopiesAll(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	ctx, adm, in, out := passTopics(t, broker, nil)
	const n = 40
	end := writeRandom(t, ctx, broker, in, n, 300<<10)
	if _, err := passthrough(ctx, broker, in, out, end); err != nil {
		t.Fatal(err)
	}
	offs, err := adm.ListEndOffsets(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	offs.Each(func(o kadm.ListedOffset) { got += o.Offset })
	if got != n {
		t.Errorf("passthrough wrote %d records of %d", got, n)
	}
}

// TestPassthroughRefused: a write the broker refuses fails the baseline,
// naming the topic, instead of being timed as done.
func TestPassthroughRefused(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	small := "10000"
	ctx, _, in, out := passTopics(t, broker, &small)
	end := writeRandom(t, ctx, broker, in, 3, 50<<10)
	_, err := passthrough(ctx, broker, in, out, end)
	if err == nil || !strings.Contains(err.Error(), "passthrough: writing "+out) {
		t.Fatalf("got %v, want the refused write", err)
	}
}

// passTopics creates an input and an output topic of one partition each
// (the output's max.message.bytes maxBytes when not nil), deleted when
// the test ends.
func passTopics(t *testing.T, broker string, maxBytes *string) (context.Context, *kadm.Client, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := "bench-pass-" + hex.EncodeToString(b)
	in, out := id+".in", id+".out"
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, in); err != nil {
		t.Fatal(err)
	}
	var configs map[string]*string
	if maxBytes != nil {
		configs = map[string]*string{"max.message.bytes": maxBytes}
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, configs, out); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adm.DeleteTopics(context.Background(), in, out) })
	return ctx, adm, in, out
}

// writeRandom writes n records of size random bytes to topic, one at a
// time, and returns its end offsets.
func writeRandom(t *testing.T, ctx context.Context, broker, topic string, n, size int) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for range n {
		v := make([]byte, size)
		_, _ = rand.Read(v)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return map[int32]int64{0: int64(n)}
}
