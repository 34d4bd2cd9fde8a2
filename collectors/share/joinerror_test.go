package share

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

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
