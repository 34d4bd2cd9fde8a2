package publish

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the publisher's Prometheus metrics. Create one per registry
// with NewMetrics and share it between publishers.
type Metrics struct {
	samples, batches, bytes, errors prometheus.Counter
	lost                            *prometheus.CounterVec
	lastSuccess                     *prometheus.GaugeVec
}

// NewMetrics registers the publisher's metrics with reg:
// telekernel_publish_samples_total, _batches_total, _bytes_total,
// _errors_total, telekernel_publish_lost_samples_total{reason} and
// telekernel_publish_last_success_timestamp_seconds
// (per device, i.e. per collector target).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	c := func(name, help string) prometheus.Counter {
		m := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "telekernel", Subsystem: "publish", Name: name, Help: help})
		reg.MustRegister(m)
		return m
	}
	m := &Metrics{
		samples: c("samples_total", "Samples acknowledged by Kafka."),
		batches: c("batches_total", "Arrow record batches (Kafka records) acknowledged."),
		bytes:   c("bytes_total", "Bytes of Arrow IPC acknowledged."),
		errors:  c("errors_total", "Batches that could not be encoded or produced."),
		lost: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "telekernel", Subsystem: "publish", Name: "lost_samples_total",
			Help: "Samples in batches that could not be encoded or produced, by reason."}, []string{"reason"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "telekernel", Subsystem: "publish",
			Name: "last_success_timestamp_seconds", Help: "When Kafka last acknowledged a batch of the device (target)."}, []string{"device"}),
	}
	reg.MustRegister(m.lastSuccess, m.lost)
	return m
}
