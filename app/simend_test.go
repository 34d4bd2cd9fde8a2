package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
)

// TestFleetEndWhileKafkaIsSlow: the simulated fleet finishes its span while
// the broker holds every produce request for longer than the collector's
// stall timeout after that. The run ends the collector's subscriptions
// before it waits for Kafka, so the devices, silent because they are done,
// are not reported DOWN: the samples are the fleet's and one UP (state and
// reason) per device, and no target_down fires. Before, every device was
// published DOWN (stalled) while the run waited.
func TestFleetEndWhileKafkaIsSlow(t *testing.T) {
	cluster := newCluster(t)
	gate := testenv.HoldProduce(cluster)
	cfg := localConfig(t, cluster)
	cfg.Sim.Devices, cfg.Sim.Interfaces, cfg.Sim.Interval = 3, 2, time.Second
	cfg.Sim.Speed, cfg.Sim.Span = config.Speed(math.Inf(1)), 3*time.Minute
	cfg.Sim.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	stall := SimStallTimeout(cfg.Sim.Interval, float64(cfg.Sim.Speed))
	logs := &testenv.LogBuffer{}
	// Hold Kafka from the first produce after the fleet starts stepping
	// (its 180 steps take well under a second) until the stall timeout
	// and 5 s have passed.
	gate.HoldWhen(func() bool { return strings.Contains(logs.String(), "simulating a device fleet over gNMI") })
	go func() {
		select {
		case <-gate.Held():
		case <-time.After(time.Minute): // never held: the test fails below
			return
		}
		time.Sleep(stall + 5*time.Second)
		gate.Release()
	}()
	sum, err := Run(context.Background(), Options{Config: &cfg, Log: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	waited := waitedForKafka(t, logs.String())
	if waited < stall {
		t.Fatalf("the run waited %v for Kafka after the fleet's end, less than the stall timeout %v: nothing tested", waited, stall)
	}
	if strings.Contains(logs.String(), `"state":"DOWN"`) {
		t.Errorf("a target was published DOWN while the run waited for Kafka:\n%s", logs.String())
	}
	ticks := int64(cfg.Sim.Span / cfg.Sim.Interval)
	want := ticks*int64(cfg.Sim.Devices)*samplesPerDeviceTick(t, cfg.Sim.Config) + targetStateRows(cfg.Sim.Devices)
	if sum.Samples != want {
		t.Errorf("%d samples, want %d: the fleet's and one UP state and reason per device", sum.Samples, want)
	}
	for _, d := range readDetections(t, cfg.Kafka.Brokers, cfg.Topics.Detections) {
		if d.Metric == schemas.MetricTargetState {
			t.Errorf("detection %s %s on %s", d.State, d.Detector, d.Device)
		}
	}
	t.Logf("the run waited %v for Kafka (stall timeout %v); %d samples", waited, stall, sum.Samples)
}

// waitedForKafka returns how long the run logged it waited for Kafka to
// acknowledge the simulator's samples.
func waitedForKafka(t *testing.T, logs string) time.Duration {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, "waited for Kafka to acknowledge") {
			continue
		}
		var rec struct{ Waited string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		d, err := time.ParseDuration(rec.Waited)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	t.Fatal("the run logged no wait for Kafka")
	return 0
}

// TestLostTargetAtFullSpeed: a target_unreachable fault served to the real
// gNMI collector by `telekernel run` at full speed. The device's streams
// end after what was queued went out, it refuses connections for the
// window, and the step that brings it back waits for the collector to
// subscribe again, so no step after the window is lost (before, the fleet
// ran on while the collector backed off, and the run reported "the gNMI
// collector received 127199 of the 149520 updates"). The collector's
// DOWN is stamped after the device's last step before the window, its UP
// at the first step after it, so the target_down fires and resolves on
// the window's edges.
func TestLostTargetAtFullSpeed(t *testing.T) {
	cfg := localConfig(t, newCluster(t))
	cfg.Sim.Devices, cfg.Sim.Interfaces, cfg.Sim.Topology.Spines = 4, 2, 2
	cfg.Sim.Speed, cfg.Sim.Span = config.Speed(math.Inf(1)), 2*time.Hour
	cfg.Sim.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	lostAt, lostFor := time.Hour, 5*time.Minute
	cfg.Sim.Faults = []sim.Fault{{Device: "sim-02", Kind: sim.FaultTargetUnreachable, After: lostAt, Duration: lostFor}}
	logs := &testenv.LogBuffer{}
	if _, err := Run(context.Background(), Options{Config: &cfg, Log: slog.New(slog.NewJSONHandler(logs, nil))}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), `"msg":"simulator stopped"`) {
		t.Fatalf("the simulator failed:\n%s", logs.String())
	}
	from, to := cfg.Sim.Start.Add(lostAt), cfg.Sim.Start.Add(lostAt+lostFor)
	iv := cfg.Sim.Interval
	var firing, resolved int
	for _, d := range readDetections(t, cfg.Kafka.Brokers, cfg.Topics.Detections) {
		if d.Metric != schemas.MetricTargetState {
			continue
		}
		at := d.EventTime
		switch {
		case d.Device == "sim-02" && d.State == schemas.StateFiring && !at.Before(from.Add(-iv)) && at.Before(from):
			firing++
		case d.Device == "sim-02" && d.State == schemas.StateResolved && !at.Before(to) && at.Before(to.Add(iv)):
			resolved++
		default:
			t.Errorf("detection %s %s on %s at %v; the window is [%v, %v)", d.State, d.Detector, d.Device, at, from, to)
		}
	}
	if firing != 1 || resolved != 1 {
		t.Errorf("sim-02: %d target_down firing in the step before %v, %d resolved in the step from %v; want 1 and 1", firing, from, resolved, to)
	}
}
