package gnmi_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newAgent(t *testing.T, devices int, ac agent.Config, opts ...agent.Option) *agent.Agent {
	t.Helper()
	f, err := sim.New(sim.Config{Devices: devices, Interfaces: 2, Start: t0, Transceivers: true, Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(ac, f, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a
}

func targetsOf(a *agent.Agent, tc tlsfiles.Config) []gnmi.Target {
	var out []gnmi.Target
	for _, tg := range a.Targets() {
		out = append(out, gnmi.Target{Name: tg.Name, Address: tg.Addr, TLS: tc})
	}
	return out
}

// runCollector starts a collector and returns a stop function that waits
// for Run to return.
func runCollector(t *testing.T, cfg gnmi.Config, pub *publish.Publisher, log *slog.Logger) (*gnmi.Collector, func()) {
	t.Helper()
	c, err := gnmi.New(cfg, pub, gnmi.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("collector Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return c, stop
}

func fastConfig(targets []gnmi.Target) gnmi.Config {
	return gnmi.Config{Targets: targets, FlushInterval: 20 * time.Millisecond,
		Backoff:       gnmi.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		Subscriptions: []gnmi.Subscription{{Name: "all", Paths: []string{"/"}}}}
}

// consume reads want rows of the topic (or fails after a timeout) and
// returns them.
func consume(t *testing.T, cl *kgo.Client, want int) []schemas.Sample {
	t.Helper()
	var out []schemas.Sample
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d rows, want %d", len(out), want)
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
				if s.Device != string(r.Key) {
					t.Fatalf("row of %s in a record keyed %s", s.Device, r.Key)
				}
			}
			out = append(out, rows...)
		})
	}
	// Nothing more may follow.
	sctx, scancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer scancel()
	if n := cl.PollFetches(sctx).NumRecords(); n > 0 {
		t.Fatalf("%d records beyond the %d rows expected", n, want)
	}
	return out
}

// TestCollectorToKafka runs simulated devices through the collector into a
// real Kafka, in the clear and with mutual TLS, restarting one device
// mid-stream: every row arrives exactly once.
func TestCollectorToKafka(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	for _, mode := range []string{"plaintext", "mtls"} {
		t.Run(mode, func(t *testing.T) {
			const devices, ticks = 3, 8
			var opts []agent.Option
			var tc tlsfiles.Config
			if mode == "mtls" {
				pki, err := agent.NewPKI(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				opts = append(opts, agent.WithTLS(pki.ServerTLS(true)))
				tc = tlsfiles.Config{Enabled: true, CAFile: pki.CAFile, CertFile: pki.ClientCert, KeyFile: pki.ClientKey}
			}
			a := newAgent(t, devices, agent.Config{}, opts...)
			topic := fmt.Sprintf("tk.samples.gnmi-test-%s-%d", mode, time.Now().UnixNano())
			ctx := context.Background()
			kc := kafka.Config{Brokers: []string{broker}}
			cl, err := kafka.Connect(ctx, kc, kgo.MaxBufferedBytes(32<<20))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: topic, Partitions: 3}); err != nil {
				t.Fatal(err)
			}
			pub, err := publish.New(cl, publish.Config{Topic: topic})
			if err != nil {
				t.Fatal(err)
			}
			c, stop := runCollector(t, fastConfig(targetsOf(a, tc)), pub, slog.New(slog.NewTextHandler(&testenv.LogBuffer{}, nil)))
			waitFor(t, 10*time.Second, "subscriptions", func() bool { return a.Stats().Subscribers == devices && c.Stats().Connects == devices })
			if mode == "mtls" {
				for _, tg := range a.Targets() {
					if got := a.CurveID(tg.Name); got != tls.X25519MLKEM768 {
						t.Fatalf("%s negotiated %v, want X25519MLKEM768", tg.Name, got)
					}
				}
			}
			per := a.Fleet().SeriesPerDevice() + 2 // + the derived input power of 2 PSUs
			for range ticks / 2 {
				if _, err := a.Step(ctx); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, 10*time.Second, "the first half", func() bool { return c.Stats().Samples == uint64(devices*ticks/2*per) })
			// Restart sim-01 mid-stream: the collector reconnects, and the
			// snapshot the device resends is not published again.
			if err := a.Stop("sim-01"); err != nil {
				t.Fatal(err)
			}
			if err := a.Start("sim-01"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "the reconnect", func() bool { return c.Stats().Connects == devices+1 })
			for range ticks - ticks/2 {
				if _, err := a.Step(ctx); err != nil {
					t.Fatal(err)
				}
			}
			want := devices * ticks * per
			waitFor(t, 20*time.Second, fmt.Sprintf("all %d samples", want), func() bool { return c.Stats().Samples == uint64(want) })
			stop()
			st := c.Stats()
			if d := st.Dropped[gnmi.DropDuplicate]; d != uint64(a.Fleet().SeriesPerDevice()) {
				t.Errorf("dropped %d duplicates, want the %d of the resent snapshot", d, a.Fleet().SeriesPerDevice())
			}
			// Each device's target state and reason when it came up, and
			// sim-01's DOWN and UP again on its restart (targetstate.go).
			const stateRows = 2*devices + 4
			if ps := pub.Stats(); ps.Samples != int64(want+stateRows) || ps.Errors != 0 {
				t.Fatalf("publisher: %+v, want %d samples", ps, want+stateRows)
			}

			rd, err := kafka.Connect(ctx, kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			rows := consume(t, rd, want+stateRows)
			seen := map[string]bool{}
			perDevice := map[string]int{}
			for _, s := range rows {
				if strings.HasPrefix(s.Metric, "telekernel:/") {
					continue
				}
				k := fmt.Sprint(s.Device, s.Metric, s.Keys, s.TS)
				if seen[k] {
					t.Fatalf("duplicate row %s", k)
				}
				seen[k] = true
				perDevice[s.Device]++
				if s.Source != schemas.SourceGNMI {
					t.Fatalf("source %q", s.Source)
				}
			}
			for _, tg := range a.Targets() {
				if perDevice[tg.Name] != ticks*per {
					t.Fatalf("%s: %d rows, want %d", tg.Name, perDevice[tg.Name], ticks*per)
				}
			}
		})
	}
}

// fakeKafka returns a publisher to an in-process broker.
func fakeKafka(t *testing.T) *publish.Publisher { return gnmi.FakePublisher(t) }

// TestMisbehavingTargets: a stalled device, one sending malformed
// responses, one with an unknown path, an address nobody listens on and a
// server whose certificate does not verify are each logged once with the
// reason and retried, while a healthy device is collected in full.
func TestMisbehavingTargets(t *testing.T) {
	a := newAgent(t, 3, agent.Config{})
	pki, err := agent.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tlsAgent := newAgent(t, 1, agent.Config{}, agent.WithTLS(pki.ServerTLS(false)))
	tg := a.Targets()
	cfg := fastConfig(nil)
	cfg.Subscriptions = append(cfg.Subscriptions, gnmi.Subscription{Name: "bad", Paths: []string{"/no/such/path"}})
	cfg.Targets = []gnmi.Target{
		{Name: "healthy", Address: tg[0].Addr, Subscriptions: []string{"all"}},
		{Name: "stalled", Address: tg[1].Addr, Subscriptions: []string{"all"}, StallTimeout: 150 * time.Millisecond, DialTimeout: 300 * time.Millisecond},
		{Name: "malformed", Address: tg[2].Addr, Subscriptions: []string{"all"}},
		{Name: "badpath", Address: tg[0].Addr, Subscriptions: []string{"bad"}},
		{Name: "nobody", Address: "127.0.0.1:1", Subscriptions: []string{"all"}},
		// The system roots do not know the simulator's CA.
		{Name: "badcert", Address: tlsAgent.Targets()[0].Addr, Subscriptions: []string{"all"}, TLS: tlsfiles.Config{Enabled: true}},
	}
	logs := &testenv.LogBuffer{}
	pub := fakeKafka(t)
	c, stop := runCollector(t, cfg, pub, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx := context.Background()
	waitFor(t, 10*time.Second, "subscriptions", func() bool { return c.Stats().Connects >= 3 })
	if err := a.Stall("sim-01", true); err != nil {
		t.Fatal(err)
	}
	if err := a.SendMalformed("sim-02", 1); err != nil {
		t.Fatal(err)
	}
	const ticks = 10
	for range ticks {
		if _, err := a.Step(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	per := a.Fleet().SeriesPerDevice() + 2
	waitFor(t, 10*time.Second, "the healthy device's samples", func() bool {
		return pub.LastSuccess("healthy") != time.Time{} && c.Stats().Samples >= uint64(ticks*per)
	})
	// The stalled device comes back.
	if err := a.Stall("sim-01", false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Step(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the stalled device to recover", func() bool {
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "target recovered") && strings.Contains(l, "target=stalled ") {
				return true
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond) // a few more retries of the others
	stop()
	out := logs.String()
	for name, reason := range map[string]string{
		"stalled":   "stalled",
		"malformed": "malformed response",
		"badpath":   "NotFound",
		"nobody":    "Unavailable",
		"badcert":   "certificate",
	} {
		var warns []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "level=WARN") && strings.Contains(l, "target="+name+" ") {
				warns = append(warns, l)
			}
		}
		max := 1
		if name == "stalled" { // then its new subscriptions get no sync while it hangs
			max = 2
		}
		if len(warns) < 1 || len(warns) > max || !strings.Contains(warns[0], reason) {
			t.Errorf("%s: want one warning naming %q, got %d:\n%s", name, reason, len(warns), strings.Join(warns, "\n"))
		}
	}
	if n := strings.Count(out, "target failed again"); n == 0 {
		t.Errorf("repeated failures were not retried (no debug lines)")
	}
	// Each of the five failing targets failed at least once.
	if st := c.Stats(); st.Failures < 5 {
		t.Errorf("stats: %+v, want at least 5 failures", st)
	}
}

// TestUsernamePassword: over TLS with the password read from a file, the
// right credentials collect, a wrong password is logged once as
// Unauthenticated and retried, and the password never appears in the log.
func TestUsernamePassword(t *testing.T) {
	const user, pass = "tk-collector", "s3cret-gnmi-pass"
	pki, err := agent.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := newAgent(t, 2, agent.Config{Username: user, Password: pass}, agent.WithTLS(pki.ServerTLS(false)))
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	if err := os.WriteFile(good, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("wrong-"+pass), 0o600); err != nil {
		t.Fatal(err)
	}
	tc := tlsfiles.Config{Enabled: true, CAFile: pki.CAFile}
	tg := targetsOf(a, tc)
	tg[0].Username, tg[0].Password = user, secret.Source{File: good}
	tg[1].Username, tg[1].Password = user, secret.Source{File: bad}
	logs := &testenv.LogBuffer{}
	c, stop := runCollector(t, fastConfig(tg), fakeKafka(t), slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	waitFor(t, 10*time.Second, "the first subscription", func() bool { return c.Stats().Connects >= 1 })
	if _, err := a.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	per := uint64(a.Fleet().SeriesPerDevice() + 2)
	waitFor(t, 10*time.Second, "the good target's samples", func() bool { return c.Stats().Samples == per })
	waitFor(t, 10*time.Second, "retries of the bad target", func() bool { return strings.Contains(logs.String(), "target failed again") })
	stop()
	if n := c.Stats().Connects; n != 1 {
		t.Errorf("%d subscriptions delivered, want only the good target's", n)
	}
	out := logs.String()
	if strings.Contains(out, pass) {
		t.Fatalf("the password appears in the log:\n%s", out)
	}
	var warns []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "target=sim-01 ") {
			warns = append(warns, l)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "Unauthenticated") {
		t.Fatalf("want one warning naming Unauthenticated for sim-01, got:\n%s\nlog:\n%s", strings.Join(warns, "\n"), out)
	}
}
