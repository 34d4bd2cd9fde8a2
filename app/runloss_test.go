package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/internal/testenv"
)

// TestRunFailsOnSamplesLostMidRun: the broker refuses the simulator's
// first produce requests of samples (a non-retriable error, so their
// samples are lost at once), then takes every later one; the run goes on
// and winds down cleanly. `telekernel run` must still fail, saying how
// many samples were lost to which topic: its exit status is how a run
// tells it did not deliver its whole fleet. Since the Publisher's Wait
// reports only what it waited for, it returned nil (exit 0) and only the
// log showed the loss.
func TestRunFailsOnSamplesLostMidRun(t *testing.T) {
	cluster := newCluster(t)
	cfg := localConfig(t, cluster)
	cfg.Sim.Devices, cfg.Sim.Interfaces, cfg.Sim.Interval = 3, 2, time.Second
	// 3 s of run: the refused requests fail long before the wind-down.
	cfg.Sim.Speed, cfg.Sim.Span = 60, 3*time.Minute
	cfg.Sim.Start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const refuse = 1 // produce requests of samples refused (each holds a few devices' batches)
	// Produce names a topic by its id (the run creates it): learn the id
	// off the cluster's loop, which the control function runs on.
	var samplesID atomic.Pointer[[16]byte]
	learned := make(chan struct{})
	go func() {
		defer close(learned)
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if ti := cluster.TopicInfo(cfg.Topics.Samples); ti != nil {
				samplesID.Store(&ti.TopicID)
				return
			}
		}
	}()
	t.Cleanup(func() { <-learned })
	var refused atomic.Int32
	cluster.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		req := kreq.(*kmsg.ProduceRequest)
		id := samplesID.Load()
		if id == nil || len(req.Topics) != 1 || refused.Load() >= refuse ||
			(req.Topics[0].Topic != cfg.Topics.Samples && req.Topics[0].TopicID != *id) {
			return nil, nil, false
		}
		refused.Add(1)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.InvalidRecord.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	logs := &testenv.LogBuffer{}
	sum, err := Run(context.Background(), Options{Config: &cfg, Log: slog.New(slog.NewJSONHandler(logs, nil))})
	if refused.Load() < refuse {
		t.Fatalf("only %d produce requests refused: nothing tested (Run: %v)\n%s", refused.Load(), err, logs.String())
	}
	ticks := int64(cfg.Sim.Span / cfg.Sim.Interval)
	all := ticks*int64(cfg.Sim.Devices)*samplesPerDeviceTick(t, cfg.Sim.Config) + targetStateRows(cfg.Sim.Devices)
	lost := all - sum.Samples
	if lost <= 0 || sum.Samples == 0 {
		t.Fatalf("%d samples produced of %d: none lost, or all, nothing tested", sum.Samples, all)
	}
	want := fmt.Sprintf("%d samples lost producing to topic %s", lost, cfg.Topics.Samples)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Run returned %v, want an error saying %q\n%s", err, want, logs.String())
	}
	t.Logf("Run: %v", err)
}
