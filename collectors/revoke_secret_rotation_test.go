package collectors

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/share"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/secret"
)

// TestRevokeStopsTargetWhileAnotherPasswordFileIsMidRotation:
// two gNMI targets, A and B, owned by this process of a group, both with
// a password file. A's file is briefly empty (rewritten in place by a
// rotation: the README promises that a file unreadable or empty meanwhile
// keeps the value loaded before and fails nothing). The group revokes B's
// bucket (another process joined): onChange must stop B before it returns,
// since B is handed to the other process right after. Before, the
// collector's SetTargets validated the whole remaining list, which loads
// A's password file again; that failed, nothing was applied, and B went
// on being collected: by two processes at once.
func TestRevokeStopsTargetWhileAnotherPasswordFileIsMidRotation(t *testing.T) {
	const user, pass = "tk", "s3cret-pw"
	fleet, err := sim.New(sim.Config{Devices: 2, Interfaces: 1, Start: time.Now().Add(-time.Hour), Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{Username: user, Password: pass}, fleet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	devs := a.Targets()
	nameA, nameB := devs[0].Name, devs[1].Name
	buckets := int32(64)
	for share.Bucket(nameA, buckets) == share.Bucket(nameB, buckets) {
		buckets--
	}

	dir := t.TempDir()
	pwA, pwB := filepath.Join(dir, "pw-a"), filepath.Join(dir, "pw-b")
	for _, p := range []string{pwA, pwB} {
		if err := os.WriteFile(p, []byte(pass+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &Config{}
	cfg.Group = share.Config{Enabled: true, Buckets: buckets}.WithDefaults()
	cfg.GNMI = gnmi.Config{FlushInterval: 20 * time.Millisecond,
		Backoff:       gnmi.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		Subscriptions: []gnmi.Subscription{{Name: "all", Paths: []string{"/"}}},
		Targets: []gnmi.Target{
			{Name: nameA, Address: devs[0].Addr, Username: user, Password: secret.Source{File: pwA}},
			{Name: nameB, Address: devs[1].Addr, Username: user, Password: secret.Source{File: pwB}},
		}}

	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	pub, err := publish.New(cl, publish.Config{Topic: "samples"})
	if err != nil {
		t.Fatal(err)
	}

	log := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	own := newOwner("gnmi", cfg, reg, log)
	run, set, err := newCollector("gnmi", own.filtered(cfg), pub, reg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	own.start(ctx, set, ownerRecheck)

	all := make([]int32, buckets)
	for i := range all {
		all[i] = int32(i)
	}
	own.setOwned(share.Change{Owned: share.NewOwned(buckets, all...), Gained: all, Reason: "assigned"})
	subscribers := func() int64 { return a.Stats().Subscribers }
	deadline := time.Now().Add(10 * time.Second)
	for subscribers() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions open, want 2 (both targets owned)", subscribers())
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A's password file is being rewritten: empty for a moment.
	if err := os.WriteFile(pwA, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	lost := share.Bucket(nameB, buckets)
	var keep []int32
	for _, b := range all {
		if b != lost {
			keep = append(keep, b)
		}
	}
	own.setOwned(share.Change{Owned: share.NewOwned(buckets, keep...), Lost: []int32{lost}, Reason: "revoked"})
	// onChange returned: the group now hands B to another process.
	deadline = time.Now().Add(3 * time.Second)
	for subscribers() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("after B's bucket was revoked, %d subscriptions are still open, want 1: B (%s) is still collected here while another process owns it", subscribers(), nameB)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(pwA, []byte(pass+"\n"), 0o600); err != nil { // the rotation completes
		t.Fatal(err)
	}
}
