package app

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/parquet"
)

// readDetections reads every detection on topic.
func readDetections(t *testing.T, brokers []string, topic string) []*schemas.Detection {
	t.Helper()
	var out []*schemas.Detection
	for _, r := range readCommitted(t, brokers, topic) {
		d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value)
		if err != nil {
			t.Errorf("detection at %d/%d does not decode: %v", r.Partition, r.Offset, err)
			continue
		}
		if string(r.Key) != d.Fingerprint {
			t.Errorf("detection key %q is not its fingerprint %q", r.Key, d.Fingerprint)
		}
		out = append(out, d)
	}
	return out
}

// readCommitted returns the committed records of topic, up to its end now.
func readCommitted(t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	end, err := endOffsets(ctx, cl, topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []*kgo.Record
	seen := map[int32]int64{}
	for !reachedAll(seen, end) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v (have %v of %v)", topic, ctx.Err(), seen, end)
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen[r.Partition] = r.Offset + 1
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		})
	}
	return out
}

// samplesPerDeviceTick is what the gNMI collector publishes per simulated
// device and step: the fleet's series, plus the input power it derives for
// each of the 2 PSUs.
func samplesPerDeviceTick(t *testing.T, sc sim.Config) int64 {
	t.Helper()
	f, err := sim.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	return int64(f.SeriesPerDevice() + 2)
}

// targetStateRows is what the gNMI collector publishes of its own view of
// devices that stay up all run: each one's UP state and reason
// (collectors/README.md, "Target state").
func targetStateRows(devices int) int64 { return 2 * int64(devices) }

// newCluster starts an in-process Kafka-protocol broker for the test,
// with opts (topics to seed, say).
func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	cluster, err := kfake.NewCluster(append([]kfake.Opt{kfake.Ports(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return cluster
}

// localConfig is the default configuration on cluster, without an HTTP
// listener, with Parquet files and labels in a folder of the test's own.
func localConfig(t *testing.T, cluster *kfake.Cluster) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Kafka.Brokers = cluster.ListenAddrs()
	cfg.HTTP.Listen = "off"
	cfg.Parquet.Root = t.TempDir()
	cfg.Sim.LabelsFile = cfg.Parquet.Root + "/labels.jsonl"
	return cfg
}

func TestEmbeddedDefaultFindsInjectedSpike(t *testing.T) {
	cfg := localConfig(t, newCluster(t))
	cfg.Sim.Devices = 5
	cfg.Sim.Speed = config.Speed(math.Inf(1))
	cfg.Sim.Span = 6 * time.Hour
	cfg.Sim.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	sum, err := Run(context.Background(), Options{Config: &cfg, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(sum)
	ticks := int64(6 * time.Hour / cfg.Sim.Interval)
	if want := ticks*5*samplesPerDeviceTick(t, cfg.Sim.Config) + targetStateRows(5); sum.Samples != want {
		t.Fatalf("samples %d, want %d", sum.Samples, want)
	}
	if sum.ParquetRows != sum.Samples {
		t.Fatalf("parquet rows %d, want %d", sum.ParquetRows, sum.Samples)
	}
	if n, err := parquet.CountRows(cfg.Parquet.Root); err != nil || n != sum.Samples {
		t.Fatalf("parquet files hold %d rows (%v), want %d", n, err, sum.Samples)
	}
	dets := readDetections(t, cfg.Kafka.Brokers, cfg.Topics.Detections)
	if int64(len(dets)) != sum.Detections {
		t.Fatalf("topic holds %d detections, summary says %d", len(dets), sum.Detections)
	}
	checkDetections(t, dets, sum)
}

// checkDetections asserts that each injected fault fired within its
// ground-truth window, and reports every other firing.
func checkDetections(t *testing.T, dets []*schemas.Detection, sum Summary) {
	t.Helper()
	for _, l := range sum.Labels {
		// One incident, one alert: it fires within the window and resolves
		// once, shortly after the fault ends.
		var firing, resolved int
		for _, d := range dets {
			if d.Device != l.Device || d.Metric != l.Metric || d.Keys != l.Keys {
				continue
			}
			switch {
			case d.State == schemas.StateFiring && !d.EventTime.Before(l.Start) && !d.EventTime.After(l.End):
				firing++
			case d.State == schemas.StateResolved && !d.EventTime.Before(l.End) && d.EventTime.Before(l.End.Add(5*time.Minute)):
				resolved++
				if !d.StartsAt.After(l.Start) || d.EndsAt == nil || !d.EndsAt.Equal(d.EventTime) {
					t.Errorf("resolved detection has startsAt %v, endsAt %v", d.StartsAt, d.EndsAt)
				}
			}
		}
		if firing != 1 || resolved != 1 {
			t.Errorf("%s %s %s: %d firing in [%v, %v] and %d resolved after it, want 1 and 1",
				l.Device, l.Metric, l.Keys, firing, l.Start.Format(time.TimeOnly), l.End.Format(time.TimeOnly), resolved)
		}
	}
	for _, d := range dets {
		labelled := false
		for _, l := range sum.Labels {
			if d.Device == l.Device && d.Metric == l.Metric && d.Keys == l.Keys &&
				!d.EventTime.Before(l.Start) && !d.EventTime.After(l.End.Add(15*time.Minute)) {
				labelled = true
			}
		}
		if !labelled {
			t.Errorf("unlabelled detection: %s %s %s %s %s z=%s", d.State, d.EventTime.Format(time.TimeOnly), d.Device, d.Metric, d.Keys, d.Annotations["description"])
		}
	}
}

func endOffsets(ctx context.Context, cl *kgo.Client, topic string) (map[int32]int64, error) {
	m, err := pipeline.EndOffsets(ctx, cl, topic)
	if err != nil {
		return nil, err
	}
	return m[topic], nil
}

func reachedAll(seen, end map[int32]int64) bool {
	for p, off := range end {
		if off > 0 && seen[p] < off {
			return false
		}
	}
	return true
}

// TestSecondRunOnSameTopics runs twice on one broker and the same topics and
// groups: the second run's stages start at the first run's commits (some
// partitions get nothing new) and must still drain promptly.
func TestSecondRunOnSameTopics(t *testing.T) {
	cluster := newCluster(t)
	for run := 1; run <= 2; run++ {
		cfg := localConfig(t, cluster)
		cfg.Sim.Devices = 1
		cfg.Sim.Speed = config.Speed(math.Inf(1))
		cfg.Sim.Span = 10 * time.Minute
		cfg.Sim.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(run) * time.Hour)
		sum, err := Run(context.Background(), Options{Config: &cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if sum.Elapsed > 30*time.Second || sum.ParquetRows != sum.Samples {
			t.Fatalf("run %d: %s", run, sum)
		}
	}
}
