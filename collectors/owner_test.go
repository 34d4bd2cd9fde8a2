package collectors

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/share"
)

// TestOwnerHandsOwnedTargets: in a group the collector gets only the
// targets of the owned buckets, on every change of the buckets and of the
// config; /targets and telekernel_collect_targets_owned agree with it.
func TestOwnerHandsOwnedTargets(t *testing.T) {
	cfg := &Config{}
	cfg.Group = share.Config{Enabled: true}.WithDefaults()
	for i := range 40 {
		cfg.GNMI.Targets = append(cfg.GNMI.Targets, gnmi.Target{Name: fmt.Sprintf("r%d", i), Address: "x:1"})
	}
	reg := prometheus.NewRegistry()
	o := newOwner("gnmi", cfg, reg, slog.New(slog.DiscardHandler))
	var handed []string
	o.set = func(c *Config) error {
		handed = handed[:0]
		for _, t := range c.GNMI.Targets {
			handed = append(handed, t.Name)
		}
		return nil
	}
	check := func(want []string) {
		t.Helper()
		slices.Sort(want)
		got := slices.Sorted(slices.Values(handed))
		if !slices.Equal(got, want) {
			t.Fatalf("handed %v, want %v", got, want)
		}
		rec := httptest.NewRecorder()
		o.ServeHTTP(rec, httptest.NewRequest("GET", "/targets", nil))
		var v struct{ Targets []string }
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || !slices.Equal(slices.Sorted(slices.Values(v.Targets)), want) {
			t.Fatalf("/targets %s (%v), want %v", rec.Body, err, want)
		}
		if g := testutil.ToFloat64(o.owned); g != float64(len(want)) {
			t.Fatalf("telekernel_collect_targets_owned %v, want %d", g, len(want))
		}
	}
	if err := o.setConfig(cfg); err != nil {
		t.Fatal(err)
	}
	check(nil) // no bucket yet: nothing
	var want []string
	var buckets []int32
	for b := int32(0); b < 32; b++ {
		buckets = append(buckets, b)
	}
	half := share.NewOwned(64, buckets...)
	for _, tg := range cfg.GNMI.Targets {
		if half.Owns(tg.Name) {
			want = append(want, tg.Name)
		}
	}
	o.setOwned(share.Change{Owned: half, Gained: buckets, Reason: "assigned"})
	check(want)
	if len(want) == 0 || len(want) == 40 {
		t.Fatalf("half the buckets own %d of 40 targets", len(want))
	}
	next := *cfg
	next.GNMI.Targets = cfg.GNMI.Targets[:20]
	if err := o.setConfig(&next); err != nil {
		t.Fatal(err)
	}
	var want2 []string
	for _, tg := range next.GNMI.Targets {
		if half.Owns(tg.Name) {
			want2 = append(want2, tg.Name)
		}
	}
	check(want2)
	o.setOwned(share.Change{Owned: share.NewOwned(64), Lost: buckets, Reason: "lost"})
	check(nil)
	if n := testutil.ToFloat64(o.rebalances.WithLabelValues("lost")); n != 1 {
		t.Errorf("rebalances{reason=lost} = %v, want 1", n)
	}
}
