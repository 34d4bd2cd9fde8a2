package agent

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"

	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// valueStyle is how a leaf's value is typed on the wire, as OpenConfig
// types it.
type valueStyle uint8

const (
	styleCounter valueStyle = iota // counter64: uint_val; JSON_IETF string
	styleDecimal                   // decimal64: double_val; JSON_IETF string
	styleUint32                    // uint32 (fan rpm, BGP counts): uint_val; JSON number
	styleFloat32                   // ieeefloat32 (PSU): 4 bytes; JSON_IETF base64
	styleString                    // enumeration: string_val; JSON string
)

// leaf is one series of a device, with its path pre-encoded.
type leaf struct {
	elems []*pb.PathElem // full path
	group int            // notification it goes in
	rel   []byte         // encoded Path relative to the group's prefix
	style valueStyle
	kind  schemas.Kind
	// del is, for a leaf that may vanish (an LLDP neighbour's), its list
	// entry's path relative to the group's prefix, encoded: what a gNMI
	// delete names when an empty value says the entry is gone; nil for
	// the others.
	del []byte
}

// group is a notification: the leaves under one list entry.
type group struct {
	prefix []*pb.PathElem
	leaves []int
}

// table is the leaves of a device (the same for every device of a fleet).
type table struct {
	leaves []leaf
	groups []group
}

// newTable lays out the leaves; with whole, one notification per step holds
// all of them (full paths, no prefix).
func newTable(series []sim.Series, whole bool) *table {
	t := &table{}
	groupOf := map[string]int{}
	for _, s := range series {
		names := strings.Split(strings.TrimPrefix(s.Metric, "/"), "/")
		elems := make([]*pb.PathElem, len(names))
		for i, n := range names {
			elems[i] = &pb.PathElem{Name: n}
		}
		placeKeys(elems, s.Keys)
		gk := names[0] + "|" + s.Keys
		depth := 2
		if whole {
			gk, depth = "", 0
		}
		g, ok := groupOf[gk]
		if !ok {
			g = len(t.groups)
			groupOf[gk] = g
			t.groups = append(t.groups, group{prefix: elems[:depth]})
		}
		rel, err := proto.Marshal(&pb.Path{Elem: elems[depth:]})
		if err != nil {
			panic(err) // cannot happen with plain elements
		}
		st := styleDecimal
		switch {
		case s.Kind == schemas.KindCounter:
			st = styleCounter
		case s.Kind == schemas.KindState:
			st = styleString
		case s.Metric == schemas.MetricFanSpeed, s.Metric == schemas.MetricBGPEstablished, s.Metric == schemas.MetricBGPPrefixesReceived:
			st = styleUint32
		case strings.Contains(s.Metric, "/power-supply/"):
			st = styleFloat32
		}
		t.groups[g].leaves = append(t.groups[g].leaves, len(t.leaves))
		t.leaves = append(t.leaves, leaf{elems: elems, group: g, rel: rel, style: st, kind: s.Kind, del: entryPath(s.Metric, elems[depth:])})
	}
	return t
}

// listKeys names, for each key the simulator uses, the lists that carry
// it: OpenConfig's interface and component lists are keyed by name, the
// BFD interface list by id, and so on.
var listKeys = map[string][]string{
	"name":                {"interface", "component", "network-instance", "protocol"},
	"identifier":          {"protocol"},
	"neighbor-address":    {"neighbor"},
	"afi-safi-name":       {"afi-safi"},
	"id":                  {"interface", "neighbor"},
	"local-discriminator": {"peer"},
}

// placeKeys puts canonical keys ("name=default,identifier=BGP,
// protocol.name=BGP,neighbor-address=10.0.0.1") on the list elements of a
// path, each on the first list from the previous key's on that carries it
// (a qualified "protocol.name" on the element it names, an unqualified key
// on a list that holds no key yet: LLDP's neighbor[id] under
// interface[name]), so the collector gives back the same canonical keys. A
// key no list carries goes on the element under the root, as the
// simulator's interface and component keys do.
func placeKeys(elems []*pb.PathElem, keys string) {
	if keys == "" {
		return
	}
	at := 1
	for _, kv := range strings.Split(keys, ",") {
		k, v, _ := strings.Cut(kv, "=")
		lists := listKeys[k]
		qualified := false
		if el, key, ok := strings.Cut(k, "."); ok {
			lists, k, qualified = []string{el}, key, true
		}
		i := at
		for i < len(elems) && (!slices.Contains(lists, elems[i].Name) || (!qualified && elems[i].Key != nil)) {
			i++
		}
		if i == len(elems) {
			i = 1
		}
		if elems[i].Key == nil {
			elems[i].Key = map[string]string{}
		}
		elems[i].Key[k], at = v, i
	}
}

// matches reports whether a subscription path (prefix and path combined)
// selects the leaf: its elements are a prefix of the leaf's, names equal or
// "*", keys equal or "*"; "..." matches any number of elements.
func matches(sub []*pb.PathElem, leaf []*pb.PathElem) bool { return matchElems(sub, leaf, true) }

// matchElems is matches, comparing the keys only with keys.
func matchElems(sub []*pb.PathElem, leaf []*pb.PathElem, keys bool) bool {
	if len(sub) == 0 {
		return true
	}
	if sub[0].GetName() == "..." {
		for i := 0; i <= len(leaf); i++ {
			if matchElems(sub[1:], leaf[i:], keys) {
				return true
			}
		}
		return false
	}
	if len(leaf) == 0 {
		return false
	}
	s, l := sub[0], leaf[0]
	if s.GetName() != "*" && stripModule(s.GetName()) != l.GetName() {
		return false
	}
	for k, v := range s.GetKey() {
		if keys && v != "*" && l.GetKey()[k] != v {
			return false
		}
	}
	return matchElems(sub[1:], leaf[1:], keys)
}

func stripModule(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// value is one leaf's value at a tick.
type value struct {
	u uint64
	f float64
	s string
}

// appendTypedValue appends the TypedValue of v for the leaf.
func appendTypedValue(b []byte, l *leaf, v *value, enc pb.Encoding) []byte {
	if enc == pb.Encoding_JSON_IETF || enc == pb.Encoding_JSON {
		field := protowire.Number(11)
		if enc == pb.Encoding_JSON {
			field = 10
		}
		var j [64]byte
		js := j[:0]
		switch l.style {
		case styleCounter:
			js = append(js, '"')
			js = strconv.AppendUint(js, v.u, 10)
			js = append(js, '"')
		case styleDecimal:
			js = append(js, '"')
			js = strconv.AppendFloat(js, v.f, 'f', -1, 64)
			js = append(js, '"')
		case styleUint32:
			js = strconv.AppendUint(js, uint64(v.f), 10)
		case styleFloat32:
			var raw [4]byte
			binary.BigEndian.PutUint32(raw[:], math.Float32bits(float32(v.f)))
			js = append(js, '"')
			js = base64.StdEncoding.AppendEncode(js, raw[:])
			js = append(js, '"')
		default:
			js = strconv.AppendQuote(js, v.s)
		}
		b = protowire.AppendTag(b, field, protowire.BytesType)
		return protowire.AppendBytes(b, js)
	}
	switch l.style {
	case styleCounter:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		return protowire.AppendVarint(b, v.u)
	case styleUint32:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v.f))
	case styleFloat32:
		var raw [4]byte
		binary.BigEndian.PutUint32(raw[:], math.Float32bits(float32(v.f)))
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		return protowire.AppendBytes(b, raw[:])
	case styleString:
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		return protowire.AppendString(b, v.s)
	}
	b = protowire.AppendTag(b, 14, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(v.f))
}

// appendUpdate appends one Update (field 4 of a Notification).
func appendUpdate(b []byte, l *leaf, v *value, enc pb.Encoding) []byte {
	var tv [96]byte
	val := appendTypedValue(tv[:0], l, v, enc)
	size := protowire.SizeTag(1) + protowire.SizeBytes(len(l.rel)) + protowire.SizeTag(3) + protowire.SizeBytes(len(val))
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, l.rel)
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	return protowire.AppendBytes(b, val)
}
