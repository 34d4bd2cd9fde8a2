package kafka

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/internal/promreg"
)

// RegisterAuthFailures registers with reg (nil: none)
// telekernel_kafka_auth_failures_total, the SASL logins the broker refused
// to the clients built from c's WithLogger config (c.AuthFailures), served
// from the start at 0. Registering twice with one registry keeps the first.
func RegisterAuthFailures(reg prometheus.Registerer, c Config) {
	promreg.Register(reg, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "telekernel_kafka_auth_failures_total",
		Help: "SASL logins the Kafka broker refused to this process's clients (each retry of a refused connection counts)."},
		func() float64 { return float64(c.AuthFailures()) }))
}
