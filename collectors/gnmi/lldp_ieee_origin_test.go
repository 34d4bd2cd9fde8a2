package gnmi

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/schemas"
)

// ieeeOrigin is the module a device may name as the origin of its
// ieee802-dot1ab-lldp paths, as IOS-XR does with openconfig-lldp.
const ieeeOrigin = "ieee802-dot1ab-lldp"

// ieeeEntryAt is the path of neighbour n's entry in ieee802-dot1ab-lldp
// below /lldp, without the module.
func ieeeEntryAt(n lldpNbr) string {
	return fmt.Sprintf("port[name=%s][dest-mac-address=%s]/remote-systems-data[time-mark=0][remote-index=%d]",
		n.port, nearestBridge, n.index)
}

// ieeeOriginForms are ieee802-dot1ab-lldp notifications that name the
// module as the origin, in the prefix or in each path, in PROTO and
// JSON_IETF.
var ieeeOriginForms = []lldpForm{
	{"origin in prefix", func(t *testing.T, ts int64, ns []lldpNbr) *pb.SubscribeResponse {
		var us []*pb.Update
		for _, n := range ns {
			p := ieeeEntryAt(n) + "/"
			us = append(us, upd(t, p+"system-name", strv(n.system)), upd(t, p+"port-id", strv(n.peer)),
				upd(t, p+"chassis-id", strv(n.id)))
		}
		return notif(t, ts, ieeeOrigin+":/lldp", us...)
	}, func(t *testing.T, ts int64, n lldpNbr) *pb.SubscribeResponse {
		return deleteAt(t, ts, ieeeOrigin+":/lldp/"+ieeeEntryAt(n))
	}},
	{"origin in path", func(t *testing.T, ts int64, ns []lldpNbr) *pb.SubscribeResponse {
		var us []*pb.Update
		for _, n := range ns {
			p := ieeeOrigin + ":/lldp/" + ieeeEntryAt(n) + "/"
			us = append(us, upd(t, p+"system-name", strv(n.system)), upd(t, p+"port-id", strv(n.peer)),
				upd(t, p+"chassis-id", strv(n.id)))
		}
		return notif(t, ts, "", us...)
	}, func(t *testing.T, ts int64, n lldpNbr) *pb.SubscribeResponse {
		return deleteAt(t, ts, ieeeOrigin+":/lldp/"+ieeeEntryAt(n))
	}},
	{"origin json", func(t *testing.T, ts int64, ns []lldpNbr) *pb.SubscribeResponse {
		var rs []string
		for _, n := range ns {
			rs = append(rs, fmt.Sprintf(`{"name":%q,"dest-mac-address":%q,"remote-systems-data":[{"time-mark":0,"remote-index":%d,`+
				`"chassis-id":%q,"port-id":%q,"system-name":%q}]}`, n.port, nearestBridge, n.index, n.id, n.peer, n.system))
		}
		return notif(t, ts, "", upd(t, ieeeOrigin+":/lldp", jsonv(`{"port":[`+strings.Join(rs, ",")+`]}`)))
	}, func(t *testing.T, ts int64, n lldpNbr) *pb.SubscribeResponse {
		return deleteAt(t, ts, ieeeOrigin+":/lldp/"+ieeeEntryAt(n))
	}},
}

// TestIEEELLDPOriginLikeNone: ieee802-dot1ab-lldp neighbours whose paths
// name the module as the origin (in the prefix or in each path, PROTO or
// JSON_IETF) give the same names, counts and aging as without an origin
// (TestIEEELLDPLikeOpenConfig), and their own leaves the same metrics.
// Before, the origin stayed in front of every metric
// ("ieee802-dot1ab-lldp:/lldp/port/…"), so the leaves were not LLDP
// neighbour leaves: no count, no system-name or port-id under the
// vocabulary's names, no link in the inventory.
func TestIEEELLDPOriginLikeNone(t *testing.T) {
	a := lldpNbr{"eth0", "00:11:22:33:44:01", "spine1", "Ethernet7", 1}
	b := lldpNbr{"eth0", "00:11:22:33:44:02", "spine2", "Ethernet3", 2}
	c := lldpNbr{"eth1", "00:11:22:33:44:01", "spine1", "Ethernet8", 3}
	const s = int64(time.Second)
	run := func(f lldpForm) ([]schemas.Sample, *Decoder) {
		return decodeAll(t, DecoderConfig{ResendInterval: 10 * time.Second},
			f.cycle(t, ts1, []lldpNbr{a, b, c}),
			f.cycle(t, ts1+10*s, []lldpNbr{a, b, c}),
			f.del(t, ts1+15*s, b),
			f.cycle(t, ts1+20*s, []lldpNbr{a}),
			f.cycle(t, ts1+30*s, []lldpNbr{a}),
			f.cycle(t, ts1+40*s, []lldpNbr{a}),
			f.cycle(t, ts1+50*s, []lldpNbr{a}))
	}
	ref, _ := run(lldpForms[2]) // ieee-proto, no origin
	if lldpForms[2].name != "ieee-proto" {
		t.Fatalf("lldpForms[2] is %q, want ieee-proto", lldpForms[2].name)
	}
	want := lldpView(ref)
	if !slices.Contains(want, "0s count name=eth0=2") || !slices.Contains(want, `0s system-name eth0="spine2" ok=true`) {
		t.Fatalf("no origin: no count or system name in\n%s", strings.Join(want, "\n"))
	}
	metrics := func(out []schemas.Sample) []string {
		var ms []string
		for _, s := range out {
			if !slices.Contains(ms, s.Metric) {
				ms = append(ms, s.Metric)
			}
		}
		slices.Sort(ms)
		return ms
	}
	for _, f := range ieeeOriginForms {
		out, d := run(f)
		if got := lldpView(out); !slices.Equal(got, want) {
			t.Errorf("%s gives\n%s\nwant as no origin\n%s", f.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if got, want := metrics(out), metrics(ref); !slices.Equal(got, want) {
			t.Errorf("%s: metrics %q, want %q", f.name, got, want)
		}
		if st := d.Stats(); st.LLDPAged != 1 {
			t.Errorf("%s: %d neighbours aged out, want 1", f.name, st.LLDPAged)
		}
	}
}

// TestOtherOriginsKept: the origin ieee802-dot1ab-lldp is dropped from the
// metric like an OpenConfig module's, and other origins, other IEEE
// modules among them, stay in front of it, so their paths never read as
// another model's. Before, ieee802-dot1ab-lldp stayed in front too.
func TestOtherOriginsKept(t *testing.T) {
	for path, want := range map[string]string{
		"ieee802-dot1ab-lldp:/lldp/port[name=eth0][dest-mac-address=x]/remote-systems-data[time-mark=0][remote-index=1]/system-name": ieeeLLDPEntry + "/system-name",
		"ieee802-dot1q-bridge:/bridges/bridge[name=b]/address":                                                                       "ieee802-dot1q-bridge:/bridges/bridge/address",
		"ietf-interfaces:/interfaces/interface[name=eth0]/speed":                                                                     "ietf-interfaces:/interfaces/interface/speed",
		"openconfig-lldp:/lldp/state/enabled":                                                                                        "/lldp/state/enabled",
	} {
		if got, _, err := Metric(nil, mustPath(t, path)); err != nil || got != want {
			t.Errorf("%s: metric %q (%v), want %q", path, got, err, want)
		}
	}
}
