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

// lldpNbr is one LLDP neighbour of a local port, as the device learned
// it: its system name and port id, and its remote-index in the IEEE
// form (the OpenConfig form keys it by id).
type lldpNbr struct {
	port, id, system, peer string
	index                  int
}

// nearestBridge is the destination MAC address of the nearest bridge's
// LLDP agent, as ieee802-dot1ab-lldp writes it.
const nearestBridge = "01-80-C2-00-00-0E"

// lldpForm makes the notification of one sample cycle of neighbours, and
// the delete of one neighbour's entry, in one of the models a device
// streams LLDP in.
type lldpForm struct {
	name  string
	cycle func(t *testing.T, ts int64, ns []lldpNbr) *pb.SubscribeResponse
	del   func(t *testing.T, ts int64, n lldpNbr) *pb.SubscribeResponse
}

// ieeeEntry is the path of neighbour n's entry in ieee802-dot1ab-lldp.
func ieeeEntry(n lldpNbr) string {
	return fmt.Sprintf("/ieee802-dot1ab-lldp:lldp/port[name=%s][dest-mac-address=%s]/remote-systems-data[time-mark=0][remote-index=%d]",
		n.port, nearestBridge, n.index)
}

func deleteAt(t *testing.T, ts int64, path string) *pb.SubscribeResponse {
	return &pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: &pb.Notification{
		Timestamp: ts, Delete: []*pb.Path{mustPath(t, path)}}}}
}

var lldpForms = []lldpForm{
	{"openconfig", func(t *testing.T, ts int64, ns []lldpNbr) *pb.SubscribeResponse {
		var us []*pb.Update
		for _, n := range ns {
			p := fmt.Sprintf("/lldp/interfaces/interface[name=%s]/neighbors/neighbor[id=%s]/state/", n.port, n.id)
			us = append(us, upd(t, p+"system-name", strv(n.system)), upd(t, p+"port-id", strv(n.peer)),
				upd(t, p+"chassis-id", strv(n.id)))
		}
		return notif(t, ts, "", us...)
	}, func(t *testing.T, ts int64, n lldpNbr) *pb.SubscribeResponse {
		return deleteAt(t, ts, fmt.Sprintf("/lldp/interfaces/interface[name=%s]/neighbors/neighbor[id=%s]", n.port, n.id))
	}},
	// ieee802-dot1ab-lldp in JSON_IETF, the whole tree in one value.
	{"ieee-json", func(t *testing.T, ts int64, ns []lldpNbr) *pb.SubscribeResponse {
		var ports []string
		byPort := map[string][]string{}
		for _, n := range ns {
			if _, ok := byPort[n.port]; !ok {
				ports = append(ports, n.port)
			}
			byPort[n.port] = append(byPort[n.port], fmt.Sprintf(`{"time-mark":0,"remote-index":%d,"chassis-id-subtype":"local",`+
				`"chassis-id":%q,"port-id-subtype":"interface-name","port-id":%q,"system-name":%q}`, n.index, n.id, n.peer, n.system))
		}
		var entries []string
		for _, p := range ports {
			entries = append(entries, fmt.Sprintf(`{"name":%q,"dest-mac-address":%q,"admin-status":"tx-and-rx","remote-systems-data":[%s]}`,
				p, nearestBridge, strings.Join(byPort[p], ",")))
		}
		return notif(t, ts, "", upd(t, "/", jsonv(`{"ieee802-dot1ab-lldp:lldp":{"port":[`+strings.Join(entries, ",")+`]}}`)))
	}, func(t *testing.T, ts int64, n lldpNbr) *pb.SubscribeResponse { return deleteAt(t, ts, ieeeEntry(n)) }},
	// ieee802-dot1ab-lldp in PROTO, a path per leaf.
	{"ieee-proto", func(t *testing.T, ts int64, ns []lldpNbr) *pb.SubscribeResponse {
		var us []*pb.Update
		for _, n := range ns {
			p := ieeeEntry(n) + "/"
			us = append(us, upd(t, p+"system-name", strv(n.system)), upd(t, p+"port-id", strv(n.peer)),
				upd(t, p+"chassis-id", strv(n.id)))
		}
		return notif(t, ts, "", us...)
	}, func(t *testing.T, ts int64, n lldpNbr) *pb.SubscribeResponse { return deleteAt(t, ts, ieeeEntry(n)) }},
}

// lldpView is what the pipeline reads of a device's LLDP samples: each
// neighbour's system name and port id by local port (what the inventory
// makes links of), and each port's neighbour count, with their times.
func lldpView(out []schemas.Sample) []string {
	var v []string
	for _, s := range out {
		switch s.Metric {
		case schemas.MetricLLDPNeighborSystemName, schemas.MetricLLDPNeighborPortID:
			port, _, ok := schemas.ParseLLDPNeighborKeys(s.Keys)
			v = append(v, fmt.Sprintf("%v %s %s=%q ok=%v", time.Duration(s.TS-ts1), lastElem(s.Metric), port, s.Str, ok))
		case schemas.MetricLLDPNeighbors:
			v = append(v, fmt.Sprintf("%v count %s=%v", time.Duration(s.TS-ts1), s.Keys, s.F64))
		}
	}
	slices.Sort(v)
	return v
}

// TestIEEELLDPLikeOpenConfig: a device streaming its LLDP neighbours in
// ieee802-dot1ab-lldp (/lldp/port[name][dest-mac-address]/
// remote-systems-data[time-mark][remote-index]), in JSON_IETF or PROTO,
// gives the system names and port ids under the vocabulary's names, keyed
// by its local ports, and the same neighbour counts as the OpenConfig form
// of the same neighbours: when they come, when one is deleted, and when
// one is no longer sampled and ages out. Before, only the OpenConfig form
// did: the IEEE one gave neither the inventory's links nor any count.
func TestIEEELLDPLikeOpenConfig(t *testing.T) {
	a := lldpNbr{"eth0", "00:11:22:33:44:01", "spine1", "Ethernet7", 1}
	b := lldpNbr{"eth0", "00:11:22:33:44:02", "spine2", "Ethernet3", 2}
	c := lldpNbr{"eth1", "00:11:22:33:44:01", "spine1", "Ethernet8", 3}
	const s = int64(time.Second)
	views := map[string][]string{}
	for _, f := range lldpForms {
		out, d := decodeAll(t, DecoderConfig{ResendInterval: 10 * time.Second},
			f.cycle(t, ts1, []lldpNbr{a, b, c}),
			f.cycle(t, ts1+10*s, []lldpNbr{a, b, c}),
			f.del(t, ts1+15*s, b),
			// c is no longer sampled: aged out a hold time (30 s) after
			// its last sample.
			f.cycle(t, ts1+20*s, []lldpNbr{a}),
			f.cycle(t, ts1+30*s, []lldpNbr{a}),
			f.cycle(t, ts1+40*s, []lldpNbr{a}),
			f.cycle(t, ts1+50*s, []lldpNbr{a}))
		views[f.name] = lldpView(out)
		if f.name != "openconfig" {
			// The neighbour's id is its IEEE entry's keys less the port.
			keys, _ := keysOf(out, schemas.MetricLLDPNeighborSystemName)
			if want := schemas.LLDPNeighborKeys("eth0", nearestBridge+"/0/1"); !slices.Contains(keys, want) {
				t.Errorf("%s: system-name keys %q, none %q", f.name, keys, want)
			}
		}
		if st := d.Stats(); st.LLDPAged != 1 {
			t.Errorf("%s: %d neighbours aged out, want 1", f.name, st.LLDPAged)
		}
	}
	oc := views["openconfig"]
	for _, want := range []string{"0s count name=eth0=2", "0s count name=eth1=1", "15s count name=eth0=1",
		"50s count name=eth1=0", `0s system-name eth0="spine2" ok=true`} {
		if !slices.Contains(oc, want) {
			t.Fatalf("openconfig form: no %q in\n%s", want, strings.Join(oc, "\n"))
		}
	}
	for name, v := range views {
		if !slices.Equal(v, oc) {
			t.Errorf("%s form gives\n%s\nwant as openconfig\n%s", name, strings.Join(v, "\n"), strings.Join(oc, "\n"))
		}
	}
}
