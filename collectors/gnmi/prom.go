package gnmi

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/internal/promvec"
)

// Metrics are the collector's Prometheus metrics, labelled by target.
// Create one per registry with NewMetrics.
type Metrics struct {
	updates, samples, responses *prometheus.CounterVec
	dropped, failures           *prometheus.CounterVec
	repaired, cacheResets       *prometheus.CounterVec
	lldpAged, clockSteps        *prometheus.CounterVec
	up, clockOffset             *prometheus.GaugeVec
}

// NewMetrics registers the collector's metrics with reg:
// telekernel_gnmi_{responses,updates,samples}_total{target},
// telekernel_gnmi_dropped_total{target,reason},
// telekernel_gnmi_repaired_total{target,reason} (invalid_utf8),
// telekernel_gnmi_cache_resets_total{target},
// telekernel_gnmi_lldp_aged_total{target} (LLDP neighbours aged out
// without a delete), telekernel_gnmi_clock_steps_total{target} (times
// the device's clock stepped back and deduplication started over on its
// new time line), telekernel_gnmi_failures_total{target,reason} (reason: a gRPC code,
// stalled, no_response or malformed), telekernel_gnmi_target_up{target}
// (1 while every subscription of the target delivers responses) and
// telekernel_gnmi_clock_offset_seconds{target} (the device's clock less
// the collector's, DecoderStats.ClockOffset). The last time a target's samples
// reached Kafka is telekernel_publish_last_success_timestamp_seconds.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	cv := promvec.Counters(reg, "gnmi")
	m := &Metrics{
		responses: cv("responses_total", "SubscribeResponses received.", "target"),
		updates:   cv("updates_total", "Leaf values received.", "target"),
		samples:   cv("samples_total", "Samples handed to the publisher.", "target"),
		dropped:   cv("dropped_total", "Leaf values not published, by reason.", "target", "reason"),
		failures:  cv("failures_total", "Subscription attempts that failed, by reason.", "target", "reason"),
		repaired:  cv("repaired_total", "Values published after a repair, by reason.", "target", "reason"),
		cacheResets: cv("cache_resets_total", "Times a stream's series caches passed max_cache_bytes and started over.",
			"target"),
		lldpAged: cv("lldp_aged_total", "LLDP neighbours aged out: not sampled for a hold time, with no delete.", "target"),
		clockSteps: cv("clock_steps_total", "Times the device's clock stepped back and deduplication started over on its new time line.",
			"target"),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "telekernel", Subsystem: "gnmi", Name: "target_up",
			Help: "1 while every subscription of the target delivers responses, 0 while one is retrying."}, []string{"target"}),
	}
	m.clockOffset = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "telekernel", Subsystem: "gnmi", Name: "clock_offset_seconds",
		Help: "The device's clock less the collector's: the timestamp of the latest notification that moved the device's clock on, less its receive time (0 with timestamp: receive)."}, []string{"target"})
	reg.MustRegister(m.up, m.clockOffset)
	return m
}

// streamMetrics are one stream's children, with the decoder counts last
// added.
type streamMetrics struct {
	mu                          sync.Mutex
	m                           *Metrics
	target                      string
	responses, updates, samples prometheus.Counter
	dropped                     [dropReasonCount]prometheus.Counter
	repaired, cacheResets       prometheus.Counter
	lldpAged, clockSteps        prometheus.Counter
	up, clockOffset             prometheus.Gauge
	last                        DecoderStats
}

func (m *Metrics) forStream(target string) *streamMetrics {
	sm := &streamMetrics{m: m, target: target, responses: m.responses.WithLabelValues(target),
		updates: m.updates.WithLabelValues(target), samples: m.samples.WithLabelValues(target), up: m.up.WithLabelValues(target),
		repaired: m.repaired.WithLabelValues(target, RepairInvalidUTF8), cacheResets: m.cacheResets.WithLabelValues(target),
		lldpAged: m.lldpAged.WithLabelValues(target), clockSteps: m.clockSteps.WithLabelValues(target),
		clockOffset: m.clockOffset.WithLabelValues(target)}
	for i, r := range dropReasons {
		sm.dropped[i] = m.dropped.WithLabelValues(target, r)
	}
	return sm
}

func (sm *streamMetrics) failures(reason string) prometheus.Counter {
	return sm.m.failures.WithLabelValues(sm.target, reason)
}

// add counts what the decoder did since the last call.
func (sm *streamMetrics) add(s DecoderStats) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.responses.Add(float64(s.Responses - sm.last.Responses))
	sm.updates.Add(float64(s.Updates - sm.last.Updates))
	sm.samples.Add(float64(s.Samples - sm.last.Samples))
	sm.repaired.Add(float64(s.Repaired - sm.last.Repaired))
	sm.cacheResets.Add(float64(s.CacheResets - sm.last.CacheResets))
	sm.lldpAged.Add(float64(s.LLDPAged - sm.last.LLDPAged))
	sm.clockSteps.Add(float64(s.ClockSteps - sm.last.ClockSteps))
	if s.ClockOffset != sm.last.ClockOffset {
		sm.clockOffset.Set(float64(s.ClockOffset) / 1e9)
	}
	for i := range s.Dropped {
		if d := s.Dropped[i] - sm.last.Dropped[i]; d > 0 {
			sm.dropped[i].Add(float64(d))
		}
	}
	sm.last = s
}

func (m *Metrics) forget(target string) {
	for _, v := range []*prometheus.CounterVec{m.responses, m.updates, m.samples, m.dropped, m.failures, m.repaired, m.cacheResets, m.lldpAged, m.clockSteps} {
		v.DeletePartialMatch(prometheus.Labels{"target": target})
	}
	m.up.DeleteLabelValues(target)
	m.clockOffset.DeleteLabelValues(target)
}
