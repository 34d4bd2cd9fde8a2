package kafka

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// TestConnectTLSAndSASL connects over TLS with SCRAM-SHA-512 credentials
// read from a file, and checks that a wrong password or an untrusted server
// fails in one line without revealing the password.
func TestConnectTLSAndSASL(t *testing.T) {
	srvTLS, caFile := testenv.SelfSigned(t)
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.TLS(srvTLS), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", "tk", "s3cret-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("s3cret-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := Config{
		Brokers:        cluster.ListenAddrs(),
		TLS:            tlsfiles.Config{Enabled: true, CAFile: caFile},
		SASL:           SASLConfig{Mechanism: "SCRAM-SHA-512", Username: "tk", Password: secret.Source{File: pw}},
		ConnectTimeout: 15 * time.Second, // under a loaded CI a TLS handshake to kfake took over 3 s
	}
	ctx := context.Background()
	cl, err := Connect(ctx, kc)
	if err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	if err := EnsureTopics(ctx, cl, TopicSpec{Name: "t", Partitions: 2}, TopicSpec{Name: "t", Partitions: 2}); err != nil {
		t.Fatalf("EnsureTopics twice: %v", err)
	}
	cl.Close()

	t.Setenv("TK_TEST_KAFKA_PW", "wrong-pass")
	bad := kc
	bad.SASL.Password = secret.Source{Env: "TK_TEST_KAFKA_PW"}
	_, err = Connect(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "cannot connect") || strings.Contains(err.Error(), "wrong-pass") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("wrong password: %v", err)
	}

	untrusted := kc
	untrusted.TLS.CAFile = ""
	if _, err = Connect(ctx, untrusted); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted server: %v", err)
	}

	for _, c := range []Config{
		{Brokers: []string{"nocolon"}},
		{SASL: SASLConfig{Mechanism: "GSSAPI"}},
		{SASL: SASLConfig{Mechanism: "PLAIN"}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: want a validation error", c)
		}
	}
}

// TestEnsureTopicsWithoutCreate: a principal without CREATE (the broker
// answers TOPIC_AUTHORIZATION_FAILED to every creation, of an existing
// topic too) uses the topics that exist, and a missing one is one error
// that names it and says how to create it.
func TestEnsureTopicsWithoutCreate(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(3, "there"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cluster.ControlKey(int16(kmsg.CreateTopics), func(r kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		req := r.(*kmsg.CreateTopicsRequest)
		resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewCreateTopicsResponseTopic()
			st.Topic, st.ErrorCode = rt.Topic, kerr.TopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	cl := newClient(t, cluster.ListenAddrs())
	ctx := context.Background()
	if err := EnsureTopics(ctx, cl, TopicSpec{Name: "there", Partitions: 3}); err != nil {
		t.Errorf("an existing topic without CREATE: %v, want it used", err)
	}
	err = EnsureTopics(ctx, cl, TopicSpec{Name: "there", Partitions: 3}, TopicSpec{Name: "missing", Partitions: 6, Compacted: true})
	if err == nil || !errors.Is(err, kerr.TopicAuthorizationFailed) ||
		!strings.Contains(err.Error(), "topic missing") || !strings.Contains(err.Error(), "6 partitions and cleanup.policy=compact") {
		t.Errorf("a missing topic without CREATE: %v, want an error naming it and how to create it", err)
	}
}

// TestEnsureTopicsRefusesStateWithoutCompaction: a state topic (a
// changelog) created beforehand without cleanup.policy=compact is
// refused with one line saying how to fix it, as retention would delete
// the state of what changed least; one created compacted is used, and a
// topic that holds no state is not checked. On kfake and on the real
// broker (TK_KAFKA), whose configs are its own.
func TestEnsureTopicsRefusesStateWithoutCompaction(t *testing.T) {
	t.Run("kfake", func(t *testing.T) {
		cluster, err := kfake.NewCluster(kfake.Ports(0))
		if err != nil {
			t.Fatal(err)
		}
		defer cluster.Close()
		refusesStateWithoutCompaction(t, cluster.ListenAddrs(), "")
	})
	t.Run("kafka", func(t *testing.T) {
		refusesStateWithoutCompaction(t, []string{testenv.Service(t, "TK_KAFKA")}, fmt.Sprintf("tk.test.compact.%d.", time.Now().UnixNano()))
	})
}

// newClient returns a client of brokers, closed when t ends.
func newClient(t *testing.T, brokers []string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func refusesStateWithoutCompaction(t *testing.T, brokers []string, prefix string) {
	cl := newClient(t, brokers)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	plain, compacted := prefix+"plain", prefix+"compacted"
	defer func() { _, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), plain, compacted) }()
	if err := EnsureTopics(ctx, cl, TopicSpec{Name: plain, Partitions: 1}, TopicSpec{Name: compacted, Partitions: 1, Compacted: true}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, cl, TopicSpec{Name: compacted, Partitions: 1, Compacted: true}); err != nil {
		t.Errorf("an existing compacted state topic: %v, want it used", err)
	}
	err := EnsureTopics(ctx, cl, TopicSpec{Name: plain, Partitions: 1, Compacted: true})
	if err == nil || !strings.Contains(err.Error(), "topic "+plain+` holds state, but its cleanup.policy is "delete"`) ||
		!strings.Contains(err.Error(), "set cleanup.policy=compact") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a state topic without compaction: %v, want one line saying to set cleanup.policy=compact", err)
	}
}

// TestEnsureTopicsStateTopicJustCreated: a state topic another process of
// the group created a moment ago may be unknown to the broker that answers
// the config request (UNKNOWN_TOPIC_OR_PARTITION, seen in
// TestChaosPowerMaintain when three processes start together): the check
// asks again instead of stopping the process.
func TestEnsureTopicsStateTopicJustCreated(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cl := newClient(t, cluster.ListenAddrs())
	ctx := context.Background()
	if err := EnsureTopics(ctx, cl, TopicSpec{Name: "state", Partitions: 1, Compacted: true}); err != nil {
		t.Fatal(err)
	}
	unknown := 3
	cluster.ControlKey(int16(kmsg.DescribeConfigs), func(r kmsg.Request) (kmsg.Response, error, bool) {
		if unknown == 0 {
			return nil, nil, false
		}
		unknown--
		cluster.KeepControl()
		req := r.(*kmsg.DescribeConfigsRequest)
		resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
		for _, rr := range req.Resources {
			rs := kmsg.NewDescribeConfigsResponseResource()
			rs.ResourceType, rs.ResourceName, rs.ErrorCode = rr.ResourceType, rr.ResourceName, kerr.UnknownTopicOrPartition.Code
			resp.Resources = append(resp.Resources, rs)
		}
		return resp, nil, true
	})
	if err := EnsureTopics(ctx, cl, TopicSpec{Name: "state", Partitions: 1, Compacted: true}); err != nil || unknown != 0 {
		t.Errorf("a state topic unknown to the broker for three answers: %v (%d answers left), want it checked once known", err, unknown)
	}
}
