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

func TestFaultCounter(t *testing.T) {
	for metric, want := range map[string]bool{
		"/interfaces/interface/state/counters/in-errors":                                                           true,
		"/interfaces/interface/state/counters/out-discards":                                                        true,
		"/interfaces/interface/ethernet/state/counters/in-fcs-errors":                                              true,
		"Cisco-IOS-XR-infra-statsd-oper:/infra-statistics/interfaces/interface/latest/generic-counters/crc-errors": true,
		"/interfaces/interface/latest/generic-counters/output-queue-drops":                                         true,
		"ifInErrors": true,
		"/interfaces/interface/state/counters/in-octets":           false,
		"/interfaces/interface/state/counters/in-unicast-pkts":     false,
		"/interfaces/interface/state/counters/carrier-transitions": false,
	} {
		if got := FaultCounter(metric); got != want {
			t.Errorf("FaultCounter(%q) = %v, want %v", metric, got, want)
		}
	}
}
