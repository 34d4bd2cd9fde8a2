package stateevents

import (
	"strings"
	"testing"
)

// BenchmarkUpdateStatus is a steady oper-status series (the common case:
// the value repeats), and one that changes every sample.
func BenchmarkUpdateStatus(b *testing.B) {
	cfg := Config{}.WithDefaults()
	for _, bc := range []struct {
		name string
		vals []string
	}{{"steady", []string{"UP"}}, {"toggle", []string{"UP", "LOWER_LAYER_DOWN"}}} {
		b.Run(bc.name, func(b *testing.B) {
			vals := make([]string, len(bc.vals))
			for i, v := range bc.vals {
				vals[i] = strings.Clone(v)
			}
			tr := New(ClassOperStatus)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				tr.UpdateStatus(&cfg, int64(i)*10*sec, vals[i%len(vals)], false)
			}
		})
	}
}

func BenchmarkUpdateCounter(b *testing.B) {
	cfg := Config{}.WithDefaults()
	tr := New(ClassCarrier)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tr.UpdateCounter(&cfg, int64(i+1)*10*sec, uint64(i/1000), false)
	}
}

// BenchmarkParse is Parse on values of each spelling: OpenConfig, SNMP,
// and the vendor enums (IOS-XR's the longest).
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name  string
		class Class
		value string
	}{
		{"openconfig", ClassOperStatus, "LOWER_LAYER_DOWN"},
		{"prefixed", ClassOperStatus, "openconfig-interfaces:UP"},
		{"snmp", ClassOperStatus, "7"},
		{"iosxr-im-state", ClassOperStatus, "im-state-down-immediate-admin"},
		{"iosxr-bfd", ClassBFD, "bfd-mgmt-session-state-admin-down"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v := strings.Clone(bc.value)
			b.SetBytes(int64(len(v)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				Parse(bc.class, v)
			}
		})
	}
}
