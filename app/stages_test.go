package app

import (
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
)

// TestStageRegistry checks the names `stages:` and `telekernel stage`
// take, and that a config naming another is refused on its line.
func TestStageRegistry(t *testing.T) {
	want := []string{"detect", "power", "maintain", "inventory", "parquet", "clickhouse", "alertstate", "alertmanager", "correlate"}
	if got := StageNames(); !slices.Equal(got, want) {
		t.Errorf("StageNames() = %v, want %v", got, want)
	}
	for _, d := range Stages {
		if d.Name == "" || d.Input == nil || d.Build == nil {
			t.Errorf("registry row %+v lacks a name, an input or a Build", d)
		}
	}
	_, err := ParseConfig("bad.yaml", []byte("stages: [detect, alerts]\n"))
	if err == nil || !strings.HasPrefix(err.Error(), `bad.yaml:1: stages[1]: "alerts" is not one of detect, power,`) {
		t.Errorf("unknown stage: %v", err)
	}
	c := config.Default()
	if err := CheckStage(&c, "clickhouse"); err == nil || err.Error() != "clickhouse.addr is empty" {
		t.Errorf("clickhouse without an address: %v", err)
	}
	if err := CheckStage(&c, "detect"); err != nil {
		t.Errorf("detect: %v", err)
	}
}

// count is the README's "Adding a stage" example: an exactly-once stage
// that emits, per samples message, the number of samples it holds.
type count struct {
	pipeline.SampleDecoder // its zero value allocates with memory.DefaultAllocator
	cfg                    countConfig
	rows                   atomic.Int64
}

// countConfig is the example's config section (in the README a field of
// config.Config with its own WithDefaults and Validate).
type countConfig struct {
	Topic string `yaml:"topic"`
}

func (c *count) Process(_ context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	sr, release, err := c.ReadSamples(r)
	if err != nil {
		return err // a bad message is dead-lettered by the runtime
	}
	defer release()
	emit(&kgo.Record{Topic: c.cfg.Topic, Key: r.Key, Value: strconv.AppendInt(nil, int64(sr.Len()), 10)})
	c.rows.Add(int64(sr.Len()))
	return nil
}

func (c *count) Checkpoint(func(partition int32, key, value []byte)) {}
func (c *count) Restore(int32, []byte, []byte) error                 { return nil }
func (c *count) Drop(int32)                                          {}
func (c *count) Committed(int)                                       {}

// countStage is the example's registration row.
var countStage = StageDef{Name: "count", Input: samplesTopic, Build: func(ctx context.Context, env *Env) (Built, error) {
	c := &count{cfg: countConfig{Topic: "tk.count"}}
	if err := kafka.EnsureTopics(ctx, env.Admin, kafka.TopicSpec{Name: c.cfg.Topic, Partitions: env.Config.Topics.Partitions}); err != nil {
		return Built{}, err
	}
	return Built{Proc: c, Progress: func() string { return "counted " + strconv.FormatInt(c.rows.Load(), 10) }}, nil
}}

// TestAddingAStage registers the example stage beside the built-in ones,
// runs it alone (stages: [count]) on a simulated fleet through the runtime
// against a Kafka-protocol broker, and checks that it counted every sample
// exactly once and that the summary names it with its input records.
func TestAddingAStage(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cfg := config.Default()
	cfg.Kafka.Brokers = cluster.ListenAddrs()
	cfg.HTTP.Listen = "off"
	cfg.Stages = []string{"count"}
	cfg.Sim.LabelsFile = t.TempDir() + "/labels.jsonl"
	cfg.Sim.Devices = 2
	cfg.Sim.Speed = config.Speed(math.Inf(1))
	cfg.Sim.Span = 30 * time.Minute
	cfg.Sim.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	stages := append(slices.Clip(Stages), countStage)
	sum, err := Run(context.Background(), Options{Config: &cfg, Stages: stages, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sum.Stages, []string{"count"}) || sum.Samples == 0 || sum.DeadLetters != 0 {
		t.Fatalf("summary: stages %v, %d samples, %d dead letters; want count alone, samples, none", sum.Stages, sum.Samples, sum.DeadLetters)
	}
	var counted int64
	out := readCommitted(t, cfg.Kafka.Brokers, "tk.count")
	for _, r := range out {
		n, err := strconv.ParseInt(string(r.Value), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		counted += n
	}
	if counted != sum.Samples || int64(len(out)) != sum.Records {
		t.Fatalf("tk.count: %d records counting %d samples; want %d records (the stage's input), %d samples", len(out), counted, sum.Records, sum.Samples)
	}
	t.Logf("count: %d samples in %d messages", counted, len(out))
}
