package gnmi_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/internal/testenv"
)

// TestNeverUpDownCountsAttemptsNotStreams: a target this
// collector never had up is to be published DOWN once gnmi.DownAfter (3)
// attempts of one stream failed in a row: one refused connect at start-up
// (a device slow to accept, or a bucket handed over while it reboots) is
// not three failed attempts, however many subscriptions the target has.
// Before, the three streams of a target with three subscriptions each
// counted their failure into one count for the target, so the very first
// attempt (each stream refused once) published it DOWN.
func TestNeverUpDownCountsAttemptsNotStreams(t *testing.T) {
	addr, streams := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		return status.Error(codes.Unavailable, "telemetry daemon starting")
	})
	cfg := fastConfig([]gnmi.Target{{Name: "multi", Address: addr}})
	// Long enough that no stream tries a second time within the test.
	cfg.Backoff = gnmi.Backoff{Initial: 30 * time.Second, Max: 30 * time.Second}
	cfg.Subscriptions = []gnmi.Subscription{
		{Name: "a", Paths: []string{"/interfaces"}},
		{Name: "b", Paths: []string{"/components"}},
		{Name: "c", Paths: []string{"/lldp"}},
	}
	logs := &testenv.LogBuffer{}
	c, stop := runCollector(t, cfg, fakeKafka(t), slog.New(slog.NewTextHandler(logs, nil)))
	defer stop()
	// Failures goes up after unreachable ran: once it is 3, every stream
	// failed its first attempt and nothing else happened.
	waitFor(t, 10*time.Second, "one failed attempt of each stream", func() bool { return c.Stats().Failures >= 3 })
	if n := streams.Load(); n != 3 {
		t.Fatalf("%d subscribe streams opened, want 3 (one attempt per subscription)", n)
	}
	if got := logLines(logs, `msg="target state"`, "state=DOWN"); len(got) > 0 {
		t.Errorf("a never-up target was published DOWN after a single failed attempt (its 3 streams counted as 3 attempts; DownAfter=%d): %q",
			gnmi.DownAfter, got)
	}
}
