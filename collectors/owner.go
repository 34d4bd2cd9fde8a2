package collectors

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/share"
	"github.com/telekernel/telekernel/collectors/snmp"
)

// owner decides which of the configured targets this process collects:
// all of them, or, in a group, those of the buckets the group assigned. It
// hands the owned targets to the collector through its reload path
// (set), serves them on /targets and counts them. Its methods are safe for
// concurrent use.
type owner struct {
	kind, group string
	log         *slog.Logger
	owned       prometheus.Gauge
	rebalances  *prometheus.CounterVec

	mu      sync.Mutex // serialises set
	set     func(*Config) error
	cfg     *Config
	buckets *share.Owned // nil: not sharing, every target is owned
	names   []string     // the targets owned now
	stopped bool
	// view guards the copies of buckets and names /targets serves (written
	// with mu held too), so it answers while set stops targets, which
	// waits for their last batches to reach Kafka.
	view struct {
		sync.Mutex
		buckets *share.Owned
		names   []string
	}
}

func newOwner(kind string, cfg *Config, reg prometheus.Registerer, log *slog.Logger) *owner {
	o := &owner{kind: kind, log: log, cfg: cfg,
		owned: prometheus.NewGauge(prometheus.GaugeOpts{Name: "telekernel_collect_targets_owned",
			Help: "Targets this collector process collects (all configured ones, or its group's share)."}),
		rebalances: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telekernel_collect_rebalances_total",
			Help: "Changes of the buckets this process owns in its collector group, by reason."}, []string{"reason"}),
	}
	reg.MustRegister(o.owned, o.rebalances)
	if cfg.Group.Enabled {
		o.group = cfg.Group.Name + "." + kind
		none := share.Owned{}
		o.buckets, o.view.buckets = &none, &none
	}
	return o
}

// filtered returns cfg with only the owned targets of the owner's kind.
func (o *owner) filtered(cfg *Config) *Config {
	c := *cfg
	if o.buckets != nil {
		c.GNMI.Targets = share.Filter(*o.buckets, c.GNMI.Targets, func(t gnmi.Target) string { return t.Name })
		c.SNMP.Targets = share.Filter(*o.buckets, c.SNMP.Targets, func(t snmp.Target) string { return t.Name })
	}
	return &c
}

// applyLocked hands the owned targets to the collector; o.mu is held.
func (o *owner) applyLocked() error {
	c := o.filtered(o.cfg)
	var names []string
	switch o.kind {
	case "gnmi":
		for _, t := range c.GNMI.Targets {
			names = append(names, t.Name)
		}
	case "snmp":
		for _, t := range c.SNMP.Targets {
			names = append(names, t.Name)
		}
	}
	o.names = names
	o.view.Lock()
	o.view.buckets, o.view.names = o.buckets, names
	o.view.Unlock()
	o.owned.Set(float64(len(names)))
	if o.set == nil || o.stopped {
		return nil
	}
	return o.set(c)
}

// setConfig applies a reloaded config (WatchConfig's apply).
func (o *owner) setConfig(cfg *Config) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cfg = cfg
	return o.applyLocked()
}

// setOwned applies a change of the group's assignment (share.Join's
// onChange): the targets lost stop before it returns.
func (o *owner) setOwned(ch share.Change) {
	o.mu.Lock()
	defer o.mu.Unlock()
	before := map[string]bool{}
	for _, n := range o.names {
		before[n] = true
	}
	b := ch.Owned
	o.buckets = &b
	err := o.applyLocked()
	gained := 0
	for _, n := range o.names {
		if !before[n] {
			gained++
		}
		delete(before, n)
	}
	o.rebalances.WithLabelValues(ch.Reason).Inc()
	o.log.Info("rebalance", "group", o.group, "reason", ch.Reason,
		"buckets_gained", len(ch.Gained), "buckets_lost", len(ch.Lost), "buckets_owned", ch.Owned.Len(),
		"targets_gained", gained, "targets_lost", len(before), "targets_owned", len(o.names))
	if err != nil {
		o.log.Error("cannot apply the owned targets", "err", err)
	}
}

// start sets the collector's reload path and applies the owned targets
// now and every period until ctx ends (setting an unchanged list is a
// no-op; the repeat closes the window in which the collector's own start
// could apply an older list). After ctx ends, nothing is applied.
func (o *owner) start(ctx context.Context, set func(*Config) error, period time.Duration) {
	o.mu.Lock()
	o.set = set
	o.mu.Unlock()
	go every(ctx, period, func() {
		o.mu.Lock()
		if err := o.applyLocked(); err != nil {
			o.log.Error("cannot apply the owned targets", "err", err)
		}
		o.mu.Unlock()
	})
}

// every calls f every period until ctx ends.
func every(ctx context.Context, period time.Duration, f func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// stop ends applying: the collector has stopped.
func (o *owner) stop() {
	o.mu.Lock()
	o.stopped = true
	o.mu.Unlock()
}

// ServeHTTP answers GET /targets with the owned targets as JSON.
func (o *owner) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	o.view.Lock()
	v := struct {
		Collector string   `json:"collector"`
		Group     string   `json:"group,omitempty"`
		Buckets   []int32  `json:"buckets,omitempty"`
		Targets   []string `json:"targets"`
	}{Collector: o.kind, Group: o.group, Targets: append([]string{}, o.view.names...)}
	if o.view.buckets != nil {
		v.Buckets = o.view.buckets.Buckets()
	}
	o.view.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
