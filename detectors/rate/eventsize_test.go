package rate

import "testing"

func TestCounterEventSize(t *testing.T) {
	f := func(metric string, want float64) {
		t.Helper()
		if got := CounterEventSize(metric); got != want {
			t.Errorf("CounterEventSize(%q) = %v, want %v", metric, got, want)
		}
	}
	f("/interfaces/interface/state/counters/in-octets", ByteEventSize)
	f("Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/generic-counters/bytes-received", ByteEventSize)
	f("ifHCInOctets", ByteEventSize)
	f("/interfaces/interface/state/counters/in-pkts", CountEventSize)
}
