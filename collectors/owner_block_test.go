package collectors

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/share"
)

// TestTargetsAnswersWhileStopping: /targets answers while the collector is
// still stopping the targets of a change, which waits for their last
// batches to be produced (as long as Kafka is away, on a "lost" change),
// and shows what the process owns after the change. Before, it waited for
// the stop, so it hung for the whole outage.
func TestTargetsAnswersWhileStopping(t *testing.T) {
	cfg := &Config{}
	cfg.Group = share.Config{Enabled: true}.WithDefaults()
	for i := range 10 {
		cfg.GNMI.Targets = append(cfg.GNMI.Targets, gnmi.Target{Name: fmt.Sprintf("r%d", i), Address: "x:1"})
	}
	o := newOwner("gnmi", cfg, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	all := share.NewOwned(1, 0)
	o.setOwned(share.Change{Owned: all, Gained: []int32{0}, Reason: "assigned"})
	stopping := make(chan struct{})
	release := make(chan struct{})
	o.set = func(*Config) error { close(stopping); <-release; return nil }
	done := make(chan struct{})
	go func() {
		o.setOwned(share.Change{Owned: share.NewOwned(1), Lost: []int32{0}, Reason: "lost"})
		close(done)
	}()
	defer func() { close(release); <-done }()
	<-stopping
	answered := make(chan []string, 1)
	go func() {
		rec := httptest.NewRecorder()
		o.ServeHTTP(rec, httptest.NewRequest("GET", "/targets", nil))
		var v struct{ Targets []string }
		_ = json.Unmarshal(rec.Body.Bytes(), &v)
		answered <- v.Targets
	}()
	select {
	case got := <-answered:
		if len(got) != 0 {
			t.Errorf("/targets lists %v after every bucket was lost, want none", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("/targets did not answer within 2s while the lost targets were stopping")
	}
}
