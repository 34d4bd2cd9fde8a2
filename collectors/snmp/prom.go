package snmp

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/internal/promvec"
)

// Metrics are the collector's Prometheus metrics. Create one per registry
// with NewMetrics.
type Metrics struct {
	polls, oids, wraps, discont *prometheus.CounterVec
	repaired                    *prometheus.CounterVec
	late                        prometheus.Counter
	pollTime                    prometheus.Histogram
}

// NewMetrics registers the collector's metrics with reg:
// telekernel_snmp_polls_total{target,result}, telekernel_snmp_oids_total{target},
// telekernel_snmp_counter_wraps_total{target},
// telekernel_snmp_discontinuities_total{target,reason},
// telekernel_snmp_repaired_total{target,reason} (invalid_utf8: interface or
// entity names whose invalid UTF-8 was replaced),
// telekernel_snmp_late_polls_total (polls that started after their next one
// was due: the worker pool is too small) and telekernel_snmp_poll_seconds.
// The last time a target's samples reached Kafka is
// telekernel_publish_last_success_timestamp_seconds.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	cv := promvec.Counters(reg, "snmp")
	m := &Metrics{
		polls:    cv("polls_total", "Polls, by result (ok or error).", "target", "result"),
		oids:     cv("oids_total", "Varbinds received.", "target"),
		wraps:    cv("counter_wraps_total", "32-bit counter wraps unwrapped.", "target"),
		discont:  cv("discontinuities_total", "Counter discontinuities that started a new baseline, by reason.", "target", "reason"),
		repaired: cv("repaired_total", "Names published after a repair, by reason.", "target", "reason"),
		late: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "telekernel", Subsystem: "snmp", Name: "late_polls_total",
			Help: "Polls that started after their next slot (the worker pool cannot keep up)."}),
		pollTime: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "telekernel", Subsystem: "snmp", Name: "poll_seconds",
			Help: "Duration of one poll of one target.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8)}),
	}
	reg.MustRegister(m.late, m.pollTime)
	return m
}

func (m *Metrics) observe(target string, r pollResult, err error, d time.Duration) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.polls.WithLabelValues(target, result).Inc()
	m.oids.WithLabelValues(target).Add(float64(r.oids))
	if r.wraps > 0 {
		m.wraps.WithLabelValues(target).Add(float64(r.wraps))
	}
	if r.repaired > 0 {
		m.repaired.WithLabelValues(target, "invalid_utf8").Add(float64(r.repaired))
	}
	for _, reason := range r.discont {
		m.discont.WithLabelValues(target, reason).Inc()
	}
	m.pollTime.Observe(d.Seconds())
}

func (m *Metrics) forget(target string) {
	for _, v := range []*prometheus.CounterVec{m.polls, m.oids, m.wraps, m.discont, m.repaired} {
		v.DeletePartialMatch(prometheus.Labels{"target": target})
	}
}
