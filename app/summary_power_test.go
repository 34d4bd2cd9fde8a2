package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// TestPowerMessagesCountsOnlyPower runs the power stage of the registry
// through the process's own runtime (connect, buildStages, startStages,
// drain, summarize) over two days of four simulated devices with a
// degrading PSU, which makes the power stage emit residual detections to
// the detections topic beside its tk.power rows. The summary's "power
// messages" are documented as tk.power messages (one per device and
// window): they equal what is on tk.power. Before, the residual detections
// were counted as power messages too.
func TestPowerMessagesCountsOnlyPower(t *testing.T) {
	cluster := newCluster(t)
	cfg := localConfig(t, cluster)
	cfg.Stages = []string{"power"}
	off := false
	cfg.Sim.Enabled = &off
	cfg.Inventory.Enabled = &off
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := newProcess(Options{Config: &cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), drainTimeout: 40 * time.Second})
	closeKafka, err := p.connect(ctx)
	defer closeKafka()
	if err != nil {
		t.Fatal(err)
	}
	defer p.env.close()
	if err := p.buildStages(ctx); err != nil {
		t.Fatal(err)
	}

	// Two days of minute ticks, one record per tick (one partition: the
	// ticks stay in order).
	h := time.Hour
	fleet, err := sim.New(sim.Config{Devices: 4, Interfaces: 8, Start: time.Now().Add(-50 * h).Truncate(time.Minute).UTC(), Interval: time.Minute,
		Power: true, Faults: []sim.Fault{{Device: "sim-00", Component: "PSU2", Kind: sim.FaultPSUDegradation, After: 20 * h, Duration: 4 * h},
			{Device: "sim-01", Component: "Fan1", Kind: sim.FaultFanFailure, After: 30 * h, Duration: 4 * h}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := kafka.RecordHeaders(schemas.SamplesHeaders())
	var recs []*kgo.Record
	for range 48 * 60 {
		sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
		fleet.Next(func(s *schemas.Sample) { sb.Append(s) })
		rec := sb.NewRecord()
		val, err := schemas.EncodeSamples(nil, rec)
		rec.Release()
		sb.Release()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: cfg.Topics.Samples, Key: []byte("fleet"), Value: val, Headers: hs})
	}
	if err := p.env.Out.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	stageCtx, cancelStages := context.WithCancel(context.Background())
	defer cancelStages()
	g, gctx := errgroup.WithContext(stageCtx)
	done := p.startStages(g, gctx, nil)
	dctx, dcancel := context.WithDeadline(context.Background(), p.stopBy())
	defer dcancel()
	if err := p.drain(dctx, done); err != nil {
		t.Fatal(err)
	}
	cancelStages()
	if err := g.Wait(); err != nil && gctx.Err() == nil {
		t.Fatal(err)
	}
	var sum Summary
	p.summarize(&sum)

	power := readCommitted(t, p.env.Kafka.Brokers, cfg.Topics.Power)
	dets := readCommitted(t, p.env.Kafka.Brokers, cfg.Topics.Detections)
	t.Logf("tk.power %d records, detections topic %d records; summary: %d power messages, %d detections", len(power), len(dets), sum.PowerMessages, sum.Detections)
	if len(dets) == 0 {
		t.Fatal("the power stage emitted no residual detection: nothing tested")
	}
	if sum.PowerMessages != int64(len(power)) {
		t.Errorf("summary counts %d power messages, but tk.power holds %d (the other %d are the power stage's residual detections on %s); the summary line prints %q",
			sum.PowerMessages, len(power), sum.PowerMessages-int64(len(power)), cfg.Topics.Detections, (Summary{Stages: sum.Stages, PowerMessages: sum.PowerMessages}).resultsString())
	}
}
