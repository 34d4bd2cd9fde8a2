package gnmi_test

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/schemas"
)

// TestLLDPSampleWithoutDeletes runs the collector against a simulated
// leaf/spine fabric whose devices send no gNMI delete for a vanished LLDP
// neighbour (agent.Config.NoDeletes), subscribed in SAMPLE mode every
// 10 s. A link is down from 30 s to 80 s: both its ends stop sampling the
// neighbour after 20 s, and each end's neighbour count drops to 0 at 60 s
// (the first sample more than three intervals after the last) and is 1
// again at 90 s; each end counts one neighbour aged out
// (telekernel_gnmi_lldp_aged_total). Another leaf is unreachable from 30 s to 80 s (its links
// down too) and is subscribed again at 90 s: the spines count its
// neighbours lost as the link's, but the leaf itself, back with its links
// after the stream was away for a hold time, counts none lost. Every
// other count is the first one, 1.
func TestLLDPSampleWithoutDeletes(t *testing.T) {
	const leaf, lost = "sim-02", "sim-03"
	f, err := sim.New(sim.Config{Devices: 5, Interfaces: 3, Interval: 10 * time.Second, Start: t0,
		Topology: sim.Topology{Spines: 2}, Faults: []sim.Fault{
			{Device: leaf, Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: 30 * time.Second, Duration: 60 * time.Second},
			{Device: lost, Kind: sim.FaultTargetUnreachable, After: 30 * time.Second, Duration: 60 * time.Second},
		}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{NoDeletes: true}, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	var down sim.Link
	for _, l := range f.Links() {
		if l.B.Device == leaf && l.B.Interface == "Ethernet1" {
			down = l
		}
	}
	if down.A.Device == "" {
		t.Fatalf("no link on %s Ethernet1: %v", leaf, f.Links())
	}
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	pcl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pcl.Close)
	pub, err := publish.New(pcl, publish.Config{Topic: "samples"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig(targetsOf(a, tlsfiles.Config{}))
	cfg.Subscriptions = []gnmi.Subscription{{Name: "lldp", Paths: []string{"/lldp/interfaces/interface/neighbors/neighbor/state"}, SampleInterval: 10 * time.Second}}
	reg := prometheus.NewRegistry()
	c, err := gnmi.New(cfg, pub, gnmi.WithLogger(slog.New(slog.NewTextHandler(&testenv.LogBuffer{}, nil))), gnmi.WithMetrics(gnmi.NewMetrics(reg)))
	if err != nil {
		t.Fatal(err)
	}
	cctx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- c.Run(cctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-runDone; err != nil {
			t.Errorf("collector Run: %v", err)
		}
	})
	waitFor(t, 10*time.Second, "subscriptions", func() bool { return c.Stats().Connects >= 5 })
	ctx := context.Background()
	const ticks = 12 // 0 … 110 s
	for range ticks {
		if _, err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Read until every device's last sample is in: its stream's earlier
	// ones were published before it.
	last := t0.Add((ticks - 1) * 10 * time.Second).UnixNano()
	ccl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer ccl.Close()
	type count struct {
		sec  int64
		port string // device port
		n    float64
	}
	var got []count
	ports := map[string]bool{} // device port of every neighbour
	done := map[string]bool{}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for len(done) < len(a.Targets()) {
		fs := ccl.PollFetches(rctx)
		if rctx.Err() != nil {
			t.Fatalf("devices with their last sample: %v", slices.Sorted(maps.Keys(done)))
		}
		fs.EachRecord(func(r *kgo.Record) {
			var hs []schemas.Header
			for _, h := range r.Headers {
				hs = append(hs, schemas.Header{Key: h.Key, Value: h.Value})
			}
			rec, err := schemas.DecodeSamples(memory.DefaultAllocator, hs, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := schemas.Samples(rec)
			rec.Release()
			for _, s := range rows {
				if s.Metric == schemas.MetricLLDPNeighbors {
					got = append(got, count{(s.TS - t0.UnixNano()) / 1e9, s.Device + " " + s.Keys, s.F64})
					continue
				}
				if port, _, ok := schemas.ParseLLDPNeighborKeys(s.Keys); ok {
					ports[s.Device+" "+schemas.LLDPPortKeys(port)] = true
				}
				if s.TS == last {
					done[s.Device] = true
				}
			}
		})
	}
	var want []count
	for p := range ports {
		want = append(want, count{0, p, 1})
	}
	lose := []sim.Endpoint{down.A, down.B}
	for _, l := range f.Links() { // the unreachable leaf's links go down too
		switch lost {
		case l.A.Device:
			lose = append(lose, l.B)
		case l.B.Device:
			lose = append(lose, l.A)
		}
	}
	aged := map[string]float64{}
	for _, e := range lose {
		p := e.Device + " " + schemas.LLDPPortKeys(e.Interface)
		want = append(want, count{60, p, 0}, count{90, p, 1})
		aged[e.Device]++
	}
	order := func(a, b count) int {
		if a.sec != b.sec {
			return int(a.sec - b.sec)
		}
		return strings.Compare(a.port, b.port)
	}
	slices.SortFunc(got, order)
	slices.SortFunc(want, order)
	if !slices.Equal(got, want) {
		t.Errorf("LLDP neighbour counts (seconds, device port, count)\n%v, want\n%v", got, want)
	}
	for _, tg := range a.Targets() {
		if n := testenv.MetricValue(t, reg, "telekernel_gnmi_lldp_aged_total", "target="+tg.Name); n != aged[tg.Name] {
			t.Errorf("%s: telekernel_gnmi_lldp_aged_total %v, want %v", tg.Name, n, aged[tg.Name])
		}
	}
}
