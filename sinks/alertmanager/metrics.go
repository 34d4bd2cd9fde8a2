package alertmanager

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the sink's Prometheus metrics. Create them once per registry
// with NewMetrics and share them between sinks; a Sink without metrics
// counts nothing.
type Metrics struct {
	posted  prometheus.Counter
	dropped *prometheus.CounterVec
	errors  prometheus.Counter
}

// NewMetrics registers the sink's metrics with reg:
// telekernel_alertmanager_alerts_posted_total,
// telekernel_alertmanager_alerts_dropped_total{reason} and
// telekernel_alertmanager_request_errors_total.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		posted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "alertmanager", Name: "alerts_posted_total",
			Help: "Alerts Alertmanager accepted, re-posts of firing alerts included.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "alertmanager", Name: "alerts_dropped_total",
			Help: "Alerts not delivered, by reason (rejected: Alertmanager answered 400 or 422 for the alert alone; too_large: HTTP 413 for the alert alone even with its annotations cut).",
		}, []string{"reason"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "alertmanager", Name: "request_errors_total",
			Help: "Requests to Alertmanager that failed (connection errors and HTTP errors).",
		}),
	}
	reg.MustRegister(m.posted, m.dropped, m.errors)
	return m
}

func (m *Metrics) addPosted(n int) {
	if m != nil {
		m.posted.Add(float64(n))
	}
}

func (m *Metrics) addDropped(reason string, n int) {
	if m != nil {
		m.dropped.WithLabelValues(reason).Add(float64(n))
	}
}

func (m *Metrics) incErrors() {
	if m != nil {
		m.errors.Inc()
	}
}
