package gnmi

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	pb "github.com/openconfig/gnmi/proto/gnmi"
)

// ocTrees are OpenConfig subtrees as devices send them for a container
// path: full (config and state beside the keys) and sparse (only the
// leaves subscribed to, so an entry may hold its keys and containers
// only). learn is a device path naming the keys of the lists, sent first
// in one variant.
var ocTrees = []struct {
	name, path, module, json, learn string
}{
	{"interfaces", "/interfaces", "openconfig-interfaces",
		`{"interface":[{"name":"Ethernet1","config":{"mtu":1500},"state":{"counters":{"in-octets":"10"}},` +
			`"subinterfaces":{"subinterface":[{"index":0,"config":{"index":0},"state":{"counters":{"in-octets":"5"}}}]}}]}`,
		"/interfaces/interface[name=Ethernet1]/subinterfaces/subinterface[index=0]/state/counters/out-octets"},
	{"interfaces sparse", "/interfaces", "openconfig-interfaces",
		`{"interface":[{"name":"Ethernet1","subinterfaces":{"subinterface":[{"index":0,` +
			`"ipv4":{"addresses":{"address":[{"ip":"10.0.0.1","state":{"prefix-length":24}}]}}}]}}]}`, ""},
	{"bgp sparse", "/network-instances", "openconfig-network-instance",
		`{"network-instance":[{"name":"default","protocols":{"protocol":[{"identifier":"BGP","name":"BGP",` +
			`"bgp":{"neighbors":{"neighbor":[{"neighbor-address":"10.0.0.2",` +
			`"afi-safis":{"afi-safi":[{"afi-safi-name":"IPV4_UNICAST","state":{"prefixes":{"received":"5"}}}]}}]}}}]}}]}`,
		"/network-instances/network-instance[name=default]/protocols/protocol[identifier=BGP][name=BGP]/bgp/neighbors/neighbor[neighbor-address=10.0.0.2]/state/session-state"},
	{"tables and fdb sparse", "/network-instances", "openconfig-network-instance",
		`{"network-instance":[{"name":"default","tables":{"table":[{"protocol":"BGP","address-family":"IPV4","state":{"protocol":"BGP"}}]},` +
			`"fdb":{"mac-table":{"entries":{"entry":[{"mac-address":"00:11","vlan":10,"state":{"age":"3"}}]}}}}]}`, ""},
	{"components sparse", "/components", "openconfig-platform",
		`{"component":[{"name":"PSU1","power-supply":{"state":{"input-current":"1.5"}},` +
			`"properties":{"property":[{"name":"p","state":{"value":"x"}}]}},{"name":"CPU0","cpu":{"utilization":{"state":{"avg":7}}}}]}`,
		"/components/component[name=PSU1]/state/temperature/instant"},
	{"acl sparse", "/acl", "openconfig-acl",
		`{"acl-sets":{"acl-set":[` +
			`{"name":"A","type":"ACL_IPV4","acl-entries":{"acl-entry":[{"sequence-id":10,"state":{"matched-packets":"5"}}]}},` +
			`{"name":"A","type":"ACL_IPV6","acl-entries":{"acl-entry":[{"sequence-id":10,"state":{"matched-packets":"7"}}]}}]},` +
			`"interfaces":{"interface":[{"id":"Ethernet1","ingress-acl-sets":{"ingress-acl-set":[{"set-name":"A","type":"ACL_IPV4",` +
			`"acl-entries":{"acl-entry":[{"sequence-id":10,"state":{"matched-packets":"5"}}]}}]}}]}}`, ""},
	{"acl", "/acl", "openconfig-acl",
		`{"acl-sets":{"acl-set":[{"name":"A","type":"ACL_IPV4","config":{"name":"A"},` +
			`"acl-entries":{"acl-entry":[{"sequence-id":10,"state":{"matched-packets":"5"}}]}}]}}`, ""},
	{"lldp and lacp sparse", "/", "openconfig-lldp",
		`{"lldp":{"interfaces":{"interface":[{"name":"Ethernet1","neighbors":{"neighbor":[{"id":"n1","state":{"system-name":"spine1"}}]}}]}},` +
			`"lacp":{"interfaces":{"interface":[{"name":"Port-Channel1","members":{"member":[{"interface":"Ethernet1","state":{"counters":{"lacp-in-pkts":"5"}}}]}}]}}}`, ""},
	{"bgp rib", "/network-instances/network-instance[name=default]/protocols/protocol[identifier=BGP][name=BGP]/bgp/rib", "openconfig-network-instance",
		`{"afi-safis":{"afi-safi":[{"afi-safi-name":"IPV4_UNICAST","ipv4-unicast":{"loc-rib":{"routes":{"route":[` +
			`{"prefix":"10.0.0.0/8","origin":"BGP","path-id":0,"state":{"valid-route":true}},` +
			`{"prefix":"10.0.0.0/8","origin":"BGP","path-id":1,"attr":{"x":"1"}}]}}}}]}}`, ""},
	{"isis sparse", "/network-instances/network-instance[name=default]/protocols/protocol[identifier=ISIS][name=1]/isis/interfaces", "openconfig-network-instance",
		`{"interface":[{"interface-id":"Ethernet1","levels":{"level":[{"level-number":2,` +
			`"afi-safi":{"af":[{"afi-name":"IPV4","safi-name":"UNICAST","x":{"metric":"10"}}]},` +
			`"adjacencies":{"adjacency":[{"system-id":"0000.0000.0001","state":{"adjacency-state":"UP"}}]}}]}}]}`, ""},
	{"qos and processes", "/", "openconfig-qos",
		`{"qos":{"interfaces":{"interface":[{"interface-id":"Ethernet1","output":{"queues":{"queue":[{"name":"BE","state":{"transmit-pkts":"5"}}]}}}]}},` +
			`"system":{"processes":{"process":[{"pid":"1234","state":{"name":"bgpd","memory-usage":"100"}}]}}}`, ""},
	{"module catalog sparse", "/module-catalog/organizations", "openconfig-module-catalog",
		`{"organization":[{"name":"openconfig","modules":{"module":[` +
			`{"name":"oc-if","version":"2.0","submodules":{"submodule":[{"name":"s","state":{"name":"s"}}]}},` +
			`{"name":"oc-if","version":"3.0","submodules":{"submodule":[{"name":"s","state":{"name":"s"}}]}}]}}]}`, ""},
}

// oldRuleSeries returns the series of a JSON tree at origin:path under
// the rule before the list keys were chosen: every top-level scalar of a
// list entry is its key.
func oldRuleSeries(t *testing.T, origin, path, text string) []string {
	t.Helper()
	p := mustPath(t, path)
	_, base, err := pathOf(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(elems []elem, v any)
	walk = func(elems []elem, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, m := range x {
				if l, ok := m.([]any); ok {
					for _, e := range l {
						e := e.(map[string]any)
						el := elem{name: stripModule(k)}
						rest := map[string]any{}
						for ek, ev := range e {
							switch ev.(type) {
							case map[string]any, []any:
								rest[ek] = ev
							default:
								el.keys = append(el.keys, kv{stripModule(ek), jsonText(ev)})
							}
						}
						walk(append(slices.Clone(elems), el), rest)
					}
					continue
				}
				walk(append(slices.Clone(elems), elem{name: stripModule(k)}), m)
			}
		default:
			metric, keys, err := canonical(origin, elems)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, metric+" {"+keys+"}")
		}
	}
	walk(base, v)
	slices.Sort(out)
	return out
}

// TestListKeysOpenConfigAsBefore: OpenConfig trees, full and sparse, with
// no origin, origin openconfig or an OpenConfig module, module-qualified
// in the value or the path or not, with their keys sent in a path first
// or not, keep the series they had when every top-level scalar of an
// entry was its key. Before, a sparse acl-set (keyed by name and type)
// sent without modules was keyed by name alone, so an IPv4 and an IPv6
// ACL of one name were one series and the second's counters were dropped
// as duplicates (and likewise a module-catalog module, keyed by name and
// version).
func TestListKeysOpenConfigAsBefore(t *testing.T) {
	for _, tr := range ocTrees {
		for _, v := range []string{"no origin", "origin openconfig", "origin module", "module in value", "module in path", "keys sent first"} {
			path, text, origin := tr.path, tr.json, ""
			switch v {
			case "origin openconfig":
				origin = "openconfig"
			case "origin module":
				origin = tr.module
			case "module in value":
				text = `{"` + tr.module + ":" + text[2:]
			case "module in path":
				if path == "/" {
					continue
				}
				path = "/" + tr.module + ":" + path[1:]
			case "keys sent first":
				if tr.learn == "" {
					continue
				}
			}
			var rs []*pb.SubscribeResponse
			if v == "keys sent first" {
				rs = append(rs, notif(t, ts1-1, "", upd(t, tr.learn, u64v(1))))
			}
			u := upd(t, path, jsonv(text))
			u.Path.Origin = origin
			rs = append(rs, notif(t, ts1, "", u))
			out, _ := decodeAll(t, DecoderConfig{}, rs...)
			var got []string
			for _, s := range out {
				if s.TS == ts1 && !strings.HasPrefix(s.Metric, "telekernel:") { // not the LLDP counts the collector derives
					got = append(got, s.Metric+" {"+s.Keys+"}")
				}
			}
			slices.Sort(got)
			if want := oldRuleSeries(t, origin, path, text); !slices.Equal(got, want) {
				t.Errorf("%s, %s: series\n got %s\nwant %s", tr.name, v, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
		}
	}
}
