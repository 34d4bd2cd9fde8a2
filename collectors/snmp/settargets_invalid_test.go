package snmp

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/secret"
)

// TestSetTargetsDropsLeftOutTargetsOfAnInvalidList: the targets a list
// leaves out are dropped even when the list does not validate (a target
// that stays has its community caught mid-rotation: empty), and the one
// that stays keeps its config. Before, SetTargets returned the error
// first, so a revoked bucket's target went on being polled by this
// process while another one polled it too.
func TestSetTargetsDropsLeftOutTargetsOfAnInvalidList(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pub, err := publish.New(cl, publish.Config{Topic: "samples"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	t.Setenv("TK_TEST_COMMUNITY_A", "public")
	t.Setenv("TK_TEST_COMMUNITY_B", "public")
	target := func(name, env string) Target {
		return Target{Name: name, Address: "127.0.0.1:1", Community: secret.Source{Env: env},
			MIBs: []string{MIBInterfaces}, Interval: time.Minute, Timeout: time.Second, Retries: -1}
	}
	a, b := target("a", "TK_TEST_COMMUNITY_A"), target("b", "TK_TEST_COMMUNITY_B")
	c, err := New(Config{Targets: []Target{a, b}}, pub, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TK_TEST_COMMUNITY_A", "")
	if err := c.SetTargets([]Target{a}); err == nil {
		t.Fatal("SetTargets with a's community empty: no error")
	}
	c.mu.Lock()
	var names []string
	for name := range c.targets {
		names = append(names, name)
	}
	c.mu.Unlock()
	if slices.Sort(names); !slices.Equal(names, []string{"a"}) {
		t.Errorf("targets after SetTargets([a]) failed to validate: %v, want [a] (b left out, dropped all the same)", names)
	}
}
