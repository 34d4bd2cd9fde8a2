package gnmi

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// seriesOf returns the samples' metrics and keys, what these tests check.
func seriesOf(out []schemas.Sample) []string {
	var got []string
	for _, s := range out {
		got = append(got, s.Metric+" {"+s.Keys+"}")
	}
	return got
}

func checkSeries(t *testing.T, out []schemas.Sample, want ...string) {
	t.Helper()
	got := seriesOf(out)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("series\n got %q\nwant %q", got, want)
	}
}

// TestListKeysFromPaths: the key names a device sent for a list in a path
// (a prefix here) key that list's JSON entries, whatever else they hold:
// an id beside a name and a depth, and an entry of scalars only, whose
// values are then published. Before, every top-level scalar was a key
// (the depth too, so the series moved with it) and the entry of scalars
// only was dropped.
func TestListKeysFromPaths(t *testing.T) {
	out, d := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "/qos/queues/queue[id=7]", upd(t, "stats/drops", u64v(1))),
		notif(t, ts1+1, "/qos", upd(t, "queues",
			jsonv(`{"queue":[{"id":7,"name":"q7","depth":5,"stats":{"drops":"3"}},{"id":8,"depth":2}]}`))))
	checkSeries(t, out,
		"/qos/queues/queue/stats/drops {id=7}",
		"/qos/queues/queue/depth {id=7}",
		"/qos/queues/queue/name {id=7}",
		"/qos/queues/queue/stats/drops {id=7}",
		"/qos/queues/queue/depth {id=8}")
	if st := d.Stats(); st.DroppedFor(DropUnsupported) != 0 {
		t.Errorf("%d dropped as unsupported, want 0", st.DroppedFor(DropUnsupported))
	}
}

// TestListKeysOpenConfigUnchanged: an entry beside config or state
// containers, or of an openconfig- module, keeps every top-level scalar
// as its key, as OpenConfig puts only keys there. Before, the same: it
// passes on the old code and guards OpenConfig against the name rule.
func TestListKeysOpenConfigUnchanged(t *testing.T) {
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/foo/bars",
			jsonv(`{"bar":[{"a":"1","name":"x","state":{"v":5}}]}`))),
		notif(t, ts1, "", upd(t, "/foo/quxes",
			jsonv(`{"openconfig-foo:qux":[{"a":"1","name":"x","sub":{"v":6}}]}`))))
	checkSeries(t, out,
		"/foo/bars/bar/state/v {a=1,name=x}",
		"/foo/quxes/qux/sub/v {a=1,name=x}")
}

// TestListKeysWellKnown: lists of knownListKeys are keyed by the table,
// entries of scalars only (ietf-ip addresses) and entries with containers
// (ietf-routing protocols keyed by type and name, an OpenConfig protocol
// in JSON without its module, config or state) alike. Before, the
// addresses were dropped, the ietf-routing protocol's description and
// the OpenConfig protocol's enabled were keys (the BGP session state
// then missed the keys PROTO gives it).
func TestListKeysWellKnown(t *testing.T) {
	out, d := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/interfaces/interface[name=eth0]/ipv4",
			jsonv(`{"address":[{"ip":"10.0.0.1","prefix-length":24}]}`))),
		notif(t, ts1, "", upd(t, "/ietf-routing:routing/control-plane-protocols",
			jsonv(`{"control-plane-protocol":[{"type":"ietf-static-routing:static","name":"1","description":"x",`+
				`"static-routes":{"count":4}}]}`))),
		notif(t, ts1, "/network-instances/network-instance[name=default]/protocols", upd(t, "",
			jsonv(`{"protocol":[{"identifier":"BGP","name":"BGP","enabled":true,`+
				`"bgp":{"neighbors":{"neighbor":[{"neighbor-address":"10.0.0.1","state":{"session-state":"ACTIVE"}}]}}}]}`))))
	checkSeries(t, out,
		"/interfaces/interface/ipv4/address/prefix-length {name=eth0,ip=10.0.0.1}",
		"/routing/control-plane-protocols/control-plane-protocol/description {name=1,type=ietf-static-routing:static}",
		"/routing/control-plane-protocols/control-plane-protocol/static-routes/count {name=1,type=ietf-static-routing:static}",
		schemas.MetricBGPSessionState+" {"+schemas.BGPInstanceKeys+",neighbor-address=10.0.0.1}",
		"/network-instances/network-instance/protocols/protocol/enabled {"+schemas.BGPInstanceKeys+"}")
	if st := d.Stats(); st.DroppedFor(DropUnsupported) != 0 {
		t.Errorf("%d dropped as unsupported, want 0", st.DroppedFor(DropUnsupported))
	}
}

// TestListKeysName: an entry of no known list, with containers and a
// member "name", is keyed by name alone and its other scalars are leaves;
// without "name", every top-level scalar stays a key. Before, every
// top-level scalar was a key in both.
func TestListKeysName(t *testing.T) {
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "", upd(t, "/system/processes",
			jsonv(`{"process":[{"name":"bgpd","pid":1234,"memory":{"used":"100"}}]}`))),
		notif(t, ts1, "", upd(t, "/system/ports",
			jsonv(`{"port":[{"port-id":"p1","mode":"x","stats":{"rx":"1"}}]}`))))
	checkSeries(t, out,
		"/system/processes/process/memory/used {name=bgpd}",
		"/system/processes/process/pid {name=bgpd}",
		"/system/ports/port/stats/rx {mode=x,port-id=p1}")
}

// TestListKeysBounded: the list keys learned from paths stop growing past
// maxListKeysBytes, and the lists learned first keep theirs. Before,
// nothing was learned (a bound for the new memory).
func TestListKeysBounded(t *testing.T) {
	b := publish.NewBatch(memory.NewGoAllocator(), "dev1", schemas.SourceGNMI)
	defer b.Release()
	d := newDecoder(t, b, DecoderConfig{})
	for i := range 100_000 {
		d.learnKeys("", []elem{{name: fmt.Sprintf("list-%d", i), keys: []kv{{"k", "v"}}}})
	}
	if d.listKeysBytes > maxListKeysBytes+1024 {
		t.Errorf("%d bytes of list keys, want at most about %d", d.listKeysBytes, maxListKeysBytes)
	}
	if len(d.listKeys) >= 100_000 || d.listKeys["/list-0"] == nil {
		t.Errorf("%d lists learned, /list-0 %q: want the first ones only", len(d.listKeys), d.listKeys["/list-0"])
	}
}
