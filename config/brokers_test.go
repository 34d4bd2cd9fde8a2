package config

import "testing"

// TestBrokerAddressChecked: a kafka.brokers entry that no dial can use (a
// port out of range, a space in the host, no host) fails the parse, so
// `check` refuses what `run` would. Before, only a missing colon was
// caught: check said ok and run failed at its first connection.
func TestBrokerAddressChecked(t *testing.T) {
	for _, b := range []string{`"127.0.0.1:99999"`, `"127.0.0.1:x"`, `"a b:9092"`, `":9092"`} {
		if _, err := Parse("k.yaml", []byte("kafka:\n  brokers: ["+b+"]\n")); err == nil {
			t.Errorf("kafka.brokers: [%s] accepted", b)
		}
	}
}
