package events

import (
	"testing"
	"time"
)

func TestHeaders(t *testing.T) {
	f := func(m Meta, want []string) {
		t.Helper()
		hs := Headers(m)
		var got []string
		for _, h := range hs {
			got = append(got, h.Key+"="+string(h.Value))
		}
		if len(got) != len(want) {
			t.Fatalf("Headers(%+v) = %q, want %q", m, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("Headers(%+v)[%d] = %q, want %q", m, i, got[i], want[i])
			}
		}
	}
	base := []string{"content-type=application/json", "telekernel-schema=s", "telekernel-schema-version=3", "ce_specversion=1.0", "ce_type=t", "ce_source=src", "ce_id=id-1"}
	f(Meta{Schema: "s", Version: 3, Type: "t", Source: "src", ID: "id-1"}, base)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	f(Meta{Schema: "s", Version: 3, Type: "t", Source: "src", ID: "id-1", Time: at}, append(base, "ce_time=2026-01-02T02:04:05.000000006Z"))
}
