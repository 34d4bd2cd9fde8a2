package share

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
)

// TestJoinRefusedIsAnError: a broker that refuses the group's session
// timeout (its group.max.session.timeout.ms is below it) never lets the
// process join, so it collects nothing; that is an ERROR saying which
// setting to change, logged once, not a DEBUG line a second. Before, at
// the default level the process logged "joined the collector group" and
// then nothing while it collected no target.
func TestJoinRefusedIsAnError(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.BrokerConfigs(map[string]string{"group.max.session.timeout.ms": "8000"}))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	logs := &testenv.LogBuffer{}
	g, err := Join(context.Background(), kafka.Config{Brokers: cluster.ListenAddrs()}, Config{Enabled: true, Buckets: 4}, "test", nil,
		WithLogger(slog.New(slog.NewJSONHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	errors := func() []string {
		var errs []string
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec struct{ Level string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == "ERROR" {
				errs = append(errs, line)
			}
		}
		return errs
	}
	for deadline := time.Now().Add(5 * time.Second); len(errors()) == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // the client retries: not logged again
	errs := errors()
	if len(errs) != 1 || !strings.Contains(errs[0], "INVALID_SESSION_TIMEOUT") || !strings.Contains(errs[0], "group.session_timeout") {
		t.Fatalf("want one ERROR naming INVALID_SESSION_TIMEOUT and group.session_timeout, got:\n%s", logs.String())
	}
}

// TestNoCoordinatorHint: Kafka answers, but no broker coordinates the
// group (COORDINATOR_NOT_AVAILABLE forever, as on a cluster whose
// __consumer_offsets cannot be created because offsets.topic.replication.factor
// exceeds its brokers). Before, the ERROR's hint said to check that Kafka
// is reachable, which it is; now it points at __consumer_offsets.
func TestNoCoordinatorHint(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cluster.ControlKey(int16(kmsg.FindCoordinator), func(r kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		req := r.(*kmsg.FindCoordinatorRequest)
		resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		for _, k := range req.CoordinatorKeys {
			c := kmsg.NewFindCoordinatorResponseCoordinator()
			c.Key, c.ErrorCode = k, kerr.CoordinatorNotAvailable.Code
			resp.Coordinators = append(resp.Coordinators, c)
		}
		return resp, nil, true
	})
	logs := &testenv.LogBuffer{}
	g, err := Join(context.Background(), kafka.Config{Brokers: cluster.ListenAddrs()}, Config{Enabled: true, Buckets: 4, SessionTimeout: 6 * time.Second}, "test", nil,
		WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(logs.String(), "level=ERROR"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no ERROR within 30 s:\n%s", logs.String())
		}
	}
	for _, s := range []string{"COORDINATOR_NOT_AVAILABLE", "__consumer_offsets", "offsets.topic.replication.factor"} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("the ERROR does not say %s:\n%s", s, logs.String())
		}
	}
}

// TestReportLooksAtEveryError: a poll returns the control topic's errors
// before the group's; a group error behind one is still logged at ERROR
// (once). Before, only a poll's first error was looked at, so the group
// error behind a topic error (an ACL withdrawn on both) went unsaid.
func TestReportLooksAtEveryError(t *testing.T) {
	logs := &testenv.LogBuffer{}
	g := &Group{log: slog.New(slog.NewTextHandler(logs, nil)), name: "grp", topic: "ctl"}
	errs := []kgo.FetchError{
		{Topic: "ctl", Partition: -1, Err: kerr.TopicAuthorizationFailed},
		{Err: &kgo.ErrGroupSession{Err: kerr.GroupAuthorizationFailed}},
	}
	logged := map[string]bool{}
	g.report(errs, logged)
	g.report(errs, logged)
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), "GROUP_AUTHORIZATION_FAILED") {
		t.Errorf("want one ERROR naming GROUP_AUTHORIZATION_FAILED, got %d:\n%s", n, logs.String())
	}
}
