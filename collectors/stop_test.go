package collectors

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/collectors/share"
	"github.com/telekernel/telekernel/internal/testenv"
)

// TestStopServesUntilReturn stops a `collect gnmi` that shares its targets
// in a group while the broker holds its heartbeats and its leave: Run
// returns within share.LeaveWait and a little, /readyz answers 503 from
// the stop, and /healthz answers until Run returns. Before, the endpoints
// closed at the signal and leaving the group waited for the client's 30 s
// of retries.
func TestStopServesUntilReturn(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	gate := testenv.HoldRequests(cluster, kmsg.Heartbeat, kmsg.LeaveGroup)
	defer gate.Release() // before the cluster closes
	_, a := simDevices(t, 1)
	tg := a.Targets()[0]
	path := filepath.Join(t.TempDir(), "collect.yaml")
	doc := fmt.Sprintf("kafka: {brokers: [%s]}\ntopic: samples\nhttp: {listen: \"127.0.0.1:0\"}\ngroup: {enabled: true}\n"+
		"gnmi:\n  subscriptions: [{name: all, paths: [/]}]\n  targets: [{name: %s, address: %q}]\n", cluster.ListenAddrs()[0], tg.Name, tg.Addr)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, "gnmi", path, cfg, slog.New(slog.NewJSONHandler(logs, nil))) }()
	base := "http://" + testenv.ServedAddr(t, logs, "serving /metrics, /healthz, /readyz and /targets")
	for deadline := time.Now().Add(20 * time.Second); a.Stats().Subscribers != 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the target was not subscribed within 20s:\n%s", logs.String())
		}
	}
	if code := testenv.HTTPStatus(base + "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz answered %d while collecting, want 200", code)
	}
	gate.Hold()
	stop()
	stopped := time.Now()
	if code := testenv.HTTPStatus(base + "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d once stopping, want 503", code)
	}
	var healthy time.Duration
	bound := share.LeaveWait + 5*time.Second
wait:
	for {
		select {
		case err := <-ran:
			if err != nil {
				t.Fatal(err)
			}
			break wait
		case <-time.After(100 * time.Millisecond):
			if testenv.HTTPStatus(base+"/healthz") == http.StatusOK {
				healthy = time.Since(stopped)
			}
			if time.Since(stopped) > bound+30*time.Second {
				t.Fatalf("Run did not return within %v of the stop:\n%s", bound+30*time.Second, logs.String())
			}
		}
	}
	took := time.Since(stopped)
	t.Logf("Run returned %v after the stop; /healthz answered until %v", took.Round(time.Millisecond), healthy.Round(time.Millisecond))
	if took > bound {
		t.Errorf("Run returned %v after the stop, want at most %v", took.Round(time.Millisecond), bound)
	}
	if healthy < share.LeaveWait-time.Second {
		t.Errorf("/healthz answered only until %v after the stop, want until Run returns (about %v)", healthy.Round(time.Millisecond), share.LeaveWait)
	}
}
