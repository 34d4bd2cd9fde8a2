package gnmi_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/schemas"
)

// TestDefaultSubscriptionFallback: leaf/spine devices without the BFD
// model refuse the default subscription (NotFound for /bfd); the collector
// says so in one WARN line per target and subscribes again at once to the
// interfaces and components only, whose every series then arrives, with
// no failure counted. Devices that serve every default path get all of
// them (LLDP, BGP and BFD included).
func TestDefaultSubscriptionFallback(t *testing.T) {
	fleet := func() *sim.Fleet {
		f, err := sim.New(sim.Config{Devices: 3, Interfaces: 2, Start: t0, Topology: sim.Topology{Spines: 1}, Faults: []sim.Fault{}})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, unsupported := range [][]string{{"/bfd"}, nil} {
		f := fleet()
		a, err := agent.New(agent.Config{Unsupported: unsupported}, f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		cfg := fastConfig(targetsOf(a, tlsfiles.Config{}))
		cfg.Subscriptions = nil // the default
		logs := &testenv.LogBuffer{}
		c, stop := runCollector(t, cfg, fakeKafka(t), slog.New(slog.NewTextHandler(logs, nil)))
		waitFor(t, 10*time.Second, "subscriptions", func() bool { return a.Stats().Subscribers == 3 })
		if _, err := a.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := uint64(0)
		for d := range 3 {
			for _, s := range f.DeviceSeries(d) {
				base := strings.HasPrefix(s.Metric, "/interfaces/") || strings.HasPrefix(s.Metric, "/components/")
				if base || (unsupported == nil && (strings.HasPrefix(s.Metric, "/lldp/") || strings.HasSuffix(s.Metric, "/session-state"))) {
					want++
				}
				if unsupported == nil && s.Metric == schemas.MetricLLDPNeighborSystemName {
					want++ // the port's LLDP neighbour count, derived by the collector
				}
			}
			want += 2 // the derived input power of 2 PSUs
		}
		waitFor(t, 10*time.Second, "samples", func() bool { return c.Stats().Samples >= want })
		time.Sleep(100 * time.Millisecond) // nothing more should come
		stop()
		st := c.Stats()
		n := strings.Count(logs.String(), "refused the default subscription")
		if st.Samples != want || st.Failures != 0 || n != len(unsupported)*3 {
			t.Fatalf("unsupported %v: %d samples (want %d), %d failures, %d fallback lines (want %d):\n%s",
				unsupported, st.Samples, want, st.Failures, n, len(unsupported)*3, logs.String())
		}
	}
}
