package gnmi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/proto"
)

// parseJSONScalar decodes one JSON scalar as sent in json_ietf_val (RFC
// 7951): 64-bit integers and decimal64 arrive as strings, which stay text
// here (sc.json marks them) and are parsed to the metric's kind by fit
// without passing through float64. A string without escapes aliases b.
func parseJSONScalar(b []byte, sc *scalar) bool {
	b = trimSpace(b)
	if len(b) == 0 {
		return false
	}
	switch c := b[0]; {
	case c == '"':
		if len(b) < 2 || b[len(b)-1] != '"' {
			return false
		}
		in := b[1 : len(b)-1]
		if bytes.IndexByte(in, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(b, &s); err != nil {
				return false
			}
			in = []byte(s)
		}
		sc.typ, sc.s, sc.json = scString, in, true
	case c == 't' && string(b) == "true":
		sc.typ, sc.u = scBool, 1
	case c == 'f' && string(b) == "false":
		sc.typ, sc.u = scBool, 0
	case c == '-' || (c >= '0' && c <= '9'):
		return parseJSONNumber(bstr(b), sc)
	default: // null, [null] (YANG empty), or not a scalar
		return false
	}
	return true
}

func parseJSONNumber(s string, sc *scalar) bool {
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		sc.typ, sc.u = scUint, u
		return true
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		sc.typ, sc.i = scInt, i
		return true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return false
	}
	sc.typ, sc.f = scFloat, f
	return true
}

func isNumber(b []byte) bool {
	_, err := strconv.ParseFloat(bstr(b), 64)
	return err == nil
}

func decodeBase64(dst, src []byte) (int, bool) {
	if base64.StdEncoding.DecodedLen(len(src)) > len(dst) {
		return 0, false
	}
	n, err := base64.StdEncoding.Decode(dst, src)
	return n, err == nil
}

// jsonTree flattens a JSON object (a container or list subtree sent for a
// non-leaf path) into leaves and appends one sample per scalar leaf. In a
// list, the keys of each entry are the members entryKeys names; the
// entry's other scalars are leaves like any other. An entry of scalars
// only whose keys are not known is dropped as unsupported: its keys could
// not be told from its values. Leaf-lists are not mapped.
func (d *Decoder) jsonTree(prefix, path, text []byte, ts int64) int {
	base := slices.Clone(d.key)
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		d.stats.Updates++
		d.drop(dropBadValue)
		return 0
	}
	n := 0
	var at *jsonBase // the path of the value, looked up at the first list
	// walk flattens v, at the member path sub, whose YANG module (of its
	// nearest module-qualified member) is mod, "" if none in the value.
	var walk func(sub []string, mod string, v any)
	walk = func(sub []string, mod string, v any) {
		switch x := v.(type) {
		case map[string]any:
			names := make([]string, 0, len(x))
			for k := range x {
				names = append(names, k)
			}
			slices.Sort(names)
			for _, k := range names {
				m := mod
				if i := strings.IndexByte(k, ':'); i >= 0 {
					m = k[:i]
				}
				walk(append(sub, k), m, x[k])
			}
		case []any:
			if len(sub) == 0 {
				d.stats.Updates++
				d.drop(dropUnsupported)
				return
			}
			if at == nil {
				at = d.jsonBaseOf(prefix, path, base)
			}
			learned, known := d.listKeysOf(at, sub)
			openconfig := isOpenConfig(mod) || (mod == "" && isOpenConfig(at.module))
			example := "" // the list's metric, worked out at its first drop
			for _, e := range x {
				entry, ok := e.(map[string]any)
				if !ok { // leaf-list
					d.stats.Updates++
					d.drop(dropUnsupported)
					return
				}
				named := entryKeys(entry, learned, known, openconfig)
				var keys []string
				rest := map[string]any{}
				for k, v := range entry {
					switch v.(type) {
					case map[string]any, []any:
						rest[k] = v
					default:
						if named != nil && !slices.Contains(named, stripModule(k)) {
							rest[k] = v
							continue
						}
						keys = append(keys, stripModule(k)+"="+jsonText(v))
					}
				}
				if named == nil && len(rest) == 0 && len(keys) > 0 {
					d.stats.Updates++
					d.drop(dropUnsupported)
					if example == "" {
						example = memberMetric(prefix, path, sub)
					}
					d.example[dropUnsupported] = example
					continue
				}
				slices.Sort(keys)
				name := sub[len(sub)-1]
				if len(keys) > 0 {
					name += "\x01" + strings.Join(keys, "\x01")
				}
				walk(append(slices.Clone(sub[:len(sub)-1]), name), mod, rest)
			}
		default:
			d.stats.Updates++
			var sc scalar
			if !jsonAnyScalar(x, &sc) {
				d.drop(dropBadValue)
				return
			}
			d.key = append(d.key[:0], base...)
			for _, s := range sub {
				d.key = append(d.key, jsonSep)
				d.key = append(d.key, s...)
			}
			se := d.lookup(prefix, path, sub)
			if se == nil {
				return
			}
			n += d.appendScalar(se, &sc, ts)
		}
	}
	walk(nil, "", v)
	return n
}

// Keys of JSON list entries. JSON does not mark which members of a list
// entry are its keys, and the collector has no YANG schema. OpenConfig
// puts only the keys beside an entry's config and state containers; IETF
// models (RFC 7951, e.g. ietf-interfaces) put every leaf there, keys and
// values (name beside enabled, oper-status, speed…). So entryKeys takes
// the keys from the best evidence at hand, in this order:
//
//  1. the key names the device sent for the list in a path element
//     (interfaces/interface[name=eth0]/…), remembered per list (learnKeys);
//  2. an entry of origin openconfig or an openconfig- module: every
//     top-level scalar;
//  3. knownListKeys;
//  4. an OpenConfig-shaped entry (a config or state container): every
//     top-level scalar; after 3, as an ietf-hardware component has a
//     state container beside its leaves;
//  5. an entry with containers and a member "name": name alone, as most
//     lists of IETF and vendor models are keyed;
//  6. else every top-level scalar, as in 2.
//
// An entry of scalars only is dropped under 2 and 6: nothing is left to
// publish but keys that may be values.
//
// A wrong guess in 5 merges entries of one name into one series (a list
// keyed by name and more: knownListKeys holds the well-known ones); 6 lets
// a series change with a value that changes, and the values are never
// published.

// knownListKeys are the keys of well-known lists, by path (module prefixes
// and origin dropped), whose entries hold leaves beside their keys (and
// an ietf-hardware component a state container): the commonest IETF and
// IEEE lists that rules 4 to 6 get wrong (keyed by more than name, or by
// something else, or entries of scalars only), each as its module's YANG
// says, and the OpenConfig lists keyed by name and more, which a sparse
// OpenConfig tree may send without config and state (rule 5 would key
// them by name alone), among them the one vocabulary list with two keys
// (schemas.BGPInstanceKeys). A list with the same path in two modules
// must have the same keys in both.
var knownListKeys = map[string][]string{
	"/interfaces/interface":                     {"name"}, // ietf-interfaces (and OpenConfig)
	"/interfaces-state/interface":               {"name"}, // ietf-interfaces, deprecated state tree
	"/interfaces/interface/ipv4/address":        {"ip"},   // ietf-ip (RFC 8344)
	"/interfaces/interface/ipv4/neighbor":       {"ip"},
	"/interfaces/interface/ipv6/address":        {"ip"},
	"/interfaces/interface/ipv6/neighbor":       {"ip"},
	"/interfaces-state/interface/ipv4/address":  {"ip"}, // ietf-ip, deprecated state tree
	"/interfaces-state/interface/ipv4/neighbor": {"ip"},
	"/interfaces-state/interface/ipv6/address":  {"ip"},
	"/interfaces-state/interface/ipv6/neighbor": {"ip"},
	"/hardware/component":                       {"name"}, // ietf-hardware
	// ietf-routing (RFC 8349), and its deprecated state tree.
	"/routing/control-plane-protocols/control-plane-protocol":       {"name", "type"},
	"/routing-state/control-plane-protocols/control-plane-protocol": {"name", "type"},
	"/routing/ribs/rib": {"name"},
	// ietf-ospf (RFC 9129): area and neighbour.
	"/routing/control-plane-protocols/control-plane-protocol/ospf/areas/area":                                         {"area-id"},
	"/routing/control-plane-protocols/control-plane-protocol/ospf/areas/area/interfaces/interface/neighbors/neighbor": {"neighbor-router-id"},
	// ietf-bgp (draft-ietf-idr-bgp-model, its NMDA versions): a
	// neighbour, keyed by its remote address, in the bgp container that
	// augments a control-plane protocol, or below that container sent
	// from its own root. The earlier, OpenConfig-shaped versions key it by
	// neighbor-address beside config and state containers, which rule 4
	// reads (an entry without remote-address skips this).
	"/routing/control-plane-protocols/control-plane-protocol/bgp/neighbors/neighbor": {"remote-address"},
	"/bgp/neighbors/neighbor": {"remote-address"},
	// ietf-alarms (RFC 8632): an alarm, an entry of scalars only but for
	// its optional histories.
	"/alarms/alarm-list/alarm": {"alarm-type-id", "alarm-type-qualifier", "resource"},
	// ietf-access-control-list (RFC 8519): the ACE counters of an
	// interface's ACL, entries of scalars only.
	"/acls/attachment-points/interface/ingress/acl-sets/acl-set/ace-statistics": {"name"},
	"/acls/attachment-points/interface/egress/acl-sets/acl-set/ace-statistics":  {"name"},
	// ieee802-dot1ab-lldp (IEEE Std 802.1ABcu-2021): a port's
	// agent, one per destination MAC address, and its neighbours.
	"/lldp/port":                     {"dest-mac-address", "name"},
	"/lldp/port/remote-systems-data": {"remote-index", "time-mark"},
	// OpenConfig.
	"/network-instances/network-instance/protocols/protocol":    {"identifier", "name"},
	"/acl/acl-sets/acl-set":                                     {"name", "type"},
	"/module-catalog/organizations/organization/modules/module": {"name", "version"},
}

// nameKey is the key of rule 5 above.
var nameKey = []string{"name"}

// entryKeys returns the names (module prefixes dropped) of the members
// that key entry, a list entry, following the rules above: learned are
// the names the device sent for the list, known its knownListKeys entry,
// openconfig whether its module is an OpenConfig one. nil means every
// top-level scalar.
func entryKeys(entry map[string]any, learned, known []string, openconfig bool) []string {
	switch {
	case learned != nil && hasScalars(entry, learned):
		return learned
	case openconfig:
		return nil
	case known != nil && hasScalars(entry, known):
		return known
	case hasMember(entry, "config", true) || hasMember(entry, "state", true):
		return nil
	case hasMember(entry, "", true) && hasScalars(entry, nameKey):
		return nameKey
	}
	return nil
}

// hasScalars reports whether entry has a scalar member of each of names.
func hasScalars(entry map[string]any, names []string) bool {
	for _, n := range names {
		if !hasMember(entry, n, false) {
			return false
		}
	}
	return true
}

// hasMember reports whether entry has a member named name (any name if
// "") that is a container or list (container) or a scalar (!container).
func hasMember(entry map[string]any, name string, container bool) bool {
	for k, v := range entry {
		if name != "" && stripModule(k) != name {
			continue
		}
		switch v.(type) {
		case map[string]any, []any:
			if container {
				return true
			}
		default:
			if !container {
				return true
			}
		}
	}
	return false
}

func isOpenConfig(module string) bool {
	return module == "openconfig" || strings.HasPrefix(module, "openconfig-")
}

// jsonBase is what the list keys need of the path of a JSON value.
type jsonBase struct {
	metric []byte // the path's metric, origin included; nil if unreadable
	origin int    // the length of its origin part ("origin:")
	module string // of the nearest module-qualified element, else the origin
}

// jsonBaseOf returns the jsonBase of the JSON value at prefix+path (raw:
// both, as the leaves' cache keys start), cached: a device sends the same
// tree every interval, and its path is parsed (and its list keys learned)
// once, not at every update. The cache is sized into cacheBytes and starts
// over with the series caches (trimCaches).
func (d *Decoder) jsonBaseOf(prefix, path, raw []byte) *jsonBase {
	if at, ok := d.jsonBases[string(raw)]; ok {
		return at
	}
	d.trimCaches()
	at := d.parseJSONBase(prefix, path)
	if d.jsonBases == nil || len(d.jsonBases) >= maxSeries {
		d.jsonBases = map[string]*jsonBase{}
	}
	d.jsonBases[string(raw)] = at
	d.cacheBytes += len(raw) + len(at.metric) + len(at.module) + 2*cacheEntryBytes
	return at
}

// parseJSONBase parses the path of a JSON value (prefix+path) and learns
// its list keys.
func (d *Decoder) parseJSONBase(prefix, path []byte) *jsonBase {
	at := &jsonBase{}
	var pp, p pb.Path
	if proto.Unmarshal(prefix, &pp) != nil || proto.Unmarshal(path, &p) != nil {
		return at
	}
	origin, elems, err := pathOf(&pp, &p)
	if err != nil {
		return at
	}
	d.learnKeys(origin, elems)
	at.module = origin
	for i := len(elems) - 1; i >= 0; i-- {
		if j := strings.IndexByte(elems[i].name, ':'); j >= 0 {
			at.module = elems[i].name[:j]
			break
		}
	}
	at.metric = appendOrigin([]byte{}, origin)
	at.origin = len(at.metric)
	for _, e := range elems {
		at.metric = append(append(at.metric, '/'), stripModule(e.name)...)
	}
	return at
}

// listKeysOf returns the key names learned for the list at sub below at,
// and its knownListKeys entry.
func (d *Decoder) listKeysOf(at *jsonBase, sub []string) (learned, known []string) {
	if at.metric == nil {
		return nil, nil
	}
	d.listBuf = append(d.listBuf[:0], at.metric...)
	for _, s := range sub {
		if i := strings.IndexByte(s, '\x01'); i >= 0 {
			s = s[:i]
		}
		d.listBuf = append(append(d.listBuf, '/'), stripModule(s)...)
	}
	return d.listKeys[string(d.listBuf)], knownListKeys[string(d.listBuf[at.origin:])]
}

// learnKeys remembers the key names of every list element of a path the
// device sent (origin and elems), by the list's metric: what keys a JSON
// entry of that list (entryKeys). It runs where a path is parsed anyway (a
// new series, a delete, a JSON value holding a list), not per update. The
// first names seen for a list stay, and past maxListKeysBytes no list is
// added, so a device cannot make them grow without bound.
func (d *Decoder) learnKeys(origin string, elems []elem) {
	d.listBuf = appendOrigin(d.listBuf[:0], origin)
	for _, e := range elems {
		d.listBuf = append(append(d.listBuf, '/'), stripModule(e.name)...)
		if len(e.keys) == 0 {
			continue
		}
		if _, ok := d.listKeys[string(d.listBuf)]; ok || d.listKeysBytes > maxListKeysBytes {
			continue
		}
		names := make([]string, len(e.keys))
		for i, k := range e.keys {
			names[i] = stripModule(k.k)
		}
		slices.Sort(names)
		if d.listKeys == nil {
			d.listKeys = map[string][]string{}
		}
		d.listKeys[string(d.listBuf)] = names
		d.listKeysBytes += len(d.listBuf) + cacheEntryBytes
		for _, n := range names {
			d.listKeysBytes += len(n) + 16
		}
	}
}

func appendOrigin(dst []byte, origin string) []byte {
	if keptOrigin(origin) {
		dst = append(append(dst, origin...), ':')
	}
	return dst
}

// memberMetric returns the metric of the JSON member sub of the value at
// prefix+path, "" when the path cannot be read. It parses the paths: for
// drops, not the hot path.
func memberMetric(prefix, path []byte, sub []string) string {
	var pp, p pb.Path
	if proto.Unmarshal(prefix, &pp) != nil || proto.Unmarshal(path, &p) != nil {
		return ""
	}
	origin, elems, err := pathOf(&pp, &p)
	if err != nil {
		return ""
	}
	for _, s := range sub {
		elems = append(elems, parseJSONMember(s))
	}
	metric, _, err := canonical(origin, elems)
	if err != nil {
		return ""
	}
	return metric
}

func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func jsonAnyScalar(v any, sc *scalar) bool {
	switch x := v.(type) {
	case string:
		sc.typ, sc.s, sc.json = scString, []byte(x), true
	case json.Number:
		return parseJSONNumber(x.String(), sc)
	case bool:
		sc.typ, sc.u = scBool, 0
		if x {
			sc.u = 1
		}
	default:
		return false
	}
	return true
}
