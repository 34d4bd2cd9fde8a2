package power

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

func TestPowerStage(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(2, "samples", "power", "detections", "dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	fleet, err := sim.New(sim.Config{Devices: 4, Interfaces: 8, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Interval: time.Minute,
		Power: true, Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	stagetest.ProduceFleet(t, ctx, prod, "samples", fleet, 75)

	m := pipeline.NewMetrics(prometheus.NewRegistry())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pw, err := New(Config{}, "power", "detections", m, log)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := pipeline.NewTransactRunner(ctx, kc, pipeline.TransactConfig{Name: "power", Group: "gp", Input: "samples", DeadLetterTopic: "dlq"}, pw, m, log)
	if err != nil {
		t.Fatal(err)
	}
	end, err := pipeline.EndOffsets(ctx, prod, "samples")
	if err != nil {
		t.Fatal(err)
	}
	tr.DrainTo(end)
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if s := tr.Stats(); s.Records != 300 || s.DeadLetters != 0 {
		t.Fatalf("stats %+v", s)
	}
	// 4 devices × 4 closed 15-minute windows.
	recs := stagetest.ConsumeAll(t, ctx, kc.Brokers, "power", 16)
	if len(recs) != 16 || pw.Emitted() != 16 {
		t.Fatalf("%d power messages, %d emitted; want 16", len(recs), pw.Emitted())
	}
	devices := map[string]int{}
	for _, r := range recs {
		rows, err := schemas.DecodePower(kafka.Headers(r), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if rows[0].Row != schemas.PowerRowDevice || rows[0].Device != string(r.Key) || rows[1].Row != schemas.PowerRowChassis {
			t.Fatalf("rows %+v", rows[:2])
		}
		ports := 0
		for _, row := range rows {
			if row.Row == schemas.PowerRowPort {
				ports++
			}
		}
		if ports != 8 || rows[0].Samples != 15 && rows[0].Samples != 14 {
			t.Fatalf("%s: %d port rows, %d samples", r.Key, ports, rows[0].Samples)
		}
		devices[string(r.Key)]++
	}
	if len(devices) != 4 {
		t.Fatalf("devices %v", devices)
	}

	// The fitted models survive a rebalance through the changelog.
	pw2, _ := New(Config{}, "power", "detections", m, log)
	cl := stagetest.ConsumeAll(t, ctx, kc.Brokers, "gp-changelog", 1)
	if len(cl) == 0 {
		t.Fatal("no model state in the changelog")
	}
	for _, r := range cl {
		if err := pw2.Restore(r.Partition, r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	for p, pt := range pw.parts {
		e := pt.e
		for _, name := range e.Models() {
			a, b := e.Model(name), pw2.Estimator(p).Model(name)
			if a.Points() > 0 && string(a.AppendState(nil)) != string(b.AppendState(nil)) {
				t.Fatalf("model %s of partition %d not restored (%d points)", name, p, a.Points())
			}
		}
	}
	if pw2.Devices() != 4 {
		t.Fatalf("%d devices restored, want 4", pw2.Devices())
	}
	for p, pt := range pw.parts {
		e := pt.e
		for _, dev := range []string{"sim-00", "sim-01", "sim-02", "sim-03"} {
			a, ok := e.AppendDeviceState(nil, dev)
			if !ok {
				continue
			}
			b, _ := pw2.Estimator(p).AppendDeviceState(nil, dev)
			if string(a) != string(b) {
				t.Fatalf("device %s of partition %d not restored", dev, p)
			}
		}
	}
	if err := pw2.Restore(0, []byte(powerStateKeyPrefix+"TK-SIM-8"), []byte{0x70, 9}); err != nil {
		t.Fatalf("a state of another version should start cold, not fail: %v", err)
	}
}

// TestPowerConfigYAML builds the stage config from YAML, as a config file
// holds it under power:.
func TestPowerConfigYAML(t *testing.T) {
	const doc = `
model:
  window: 15m
  memory: 50000
  residual_z: 5
  priors:
    base: 120
    port: {SPEED_10GB: 3, SPEED_100GB: 7, SPEED_400GB: 15}
    optic: {SPEED_10GB: 1.5, SPEED_100GB: 4, SPEED_400GB: 12}
    rel_std: 0.5
  models:
    TK-SIM-8:
      base: 90
      port: {SPEED_10GB: 2.5, SPEED_100GB: 6, SPEED_400GB: 13}
source: telekernel/power-eu1
`
	var c Config
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	m := c.Model.Models["TK-SIM-8"]
	if c.Model.Window != 15*time.Minute || m.Base != 90 || math.Abs(m.Dynamic["SPEED_100GB"]-0.3) > 1e-9 || m.Optic["SPEED_100GB"] != 4 {
		t.Fatalf("config %+v", c.Model)
	}
	if c.Source != "telekernel/power-eu1" {
		t.Fatalf("source %q, want the file's", c.Source)
	}
	c.Model.Priors.Port["SPEED_3GB"] = 1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "model.priors.port") {
		t.Fatalf("bad speed: %v", err)
	}
}
