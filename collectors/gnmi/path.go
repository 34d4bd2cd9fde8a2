package gnmi

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/schemas"
)

// elem is one element of a gNMI path: a name and its list keys.
type elem struct {
	name string
	keys []kv
}

type kv struct{ k, v string }

// pathOf returns the elements of prefix followed by those of path, and the
// origin (the path's origin wins when both carry one). The deprecated
// string elements ("interface[name=Ethernet1]") are accepted too.
func pathOf(prefix, path *pb.Path) (origin string, elems []elem, err error) {
	for _, p := range []*pb.Path{prefix, path} {
		if p == nil {
			continue
		}
		if p.GetOrigin() != "" {
			origin = p.GetOrigin()
		}
		for _, e := range p.GetElem() {
			el := elem{name: e.GetName()}
			for k, v := range e.GetKey() {
				el.keys = append(el.keys, kv{k, v})
			}
			elems = append(elems, el)
		}
		//lint:ignore SA1019 the pre-0.4 string path, still sent by older targets
		for _, s := range p.GetElement() {
			el, err := parseElement(s)
			if err != nil {
				return "", nil, err
			}
			elems = append(elems, el)
		}
	}
	return origin, elems, nil
}

// parseElement parses one element of the deprecated string form, e.g.
// "interface[name=Ethernet1]" or "channel[index=0][name=x]".
func parseElement(s string) (elem, error) {
	i := strings.IndexByte(s, '[')
	if i < 0 {
		return elem{name: s}, nil
	}
	e := elem{name: s[:i]}
	rest := s[i:]
	for rest != "" {
		if rest[0] != '[' {
			return elem{}, fmt.Errorf("cannot parse path element %q: want [key=value]", s)
		}
		end := strings.IndexByte(rest, ']')
		eq := strings.IndexByte(rest, '=')
		if end < 0 || eq < 0 || eq > end {
			return elem{}, fmt.Errorf("cannot parse path element %q: want [key=value]", s)
		}
		e.keys = append(e.keys, kv{rest[1:eq], rest[eq+1 : end]})
		rest = rest[end+1:]
	}
	return e, nil
}

// errEmptyPath is returned for an update whose prefix and path name nothing.
var errEmptyPath = errors.New("empty path")

// canonical returns the metric name and canonical keys of a path: the metric
// is the path without list keys, "/a/b/c"; a non-OpenConfig origin is kept
// in front as "origin:/a/b/c", and YANG module prefixes of element names
// ("openconfig-interfaces:interfaces") are dropped, as is an OpenConfig
// module named as the origin ("openconfig-lldp", as IOS-XR sends) and
// ieee802-dot1ab-lldp (keptOrigin). See canonicalKeys for the keys.
func canonical(origin string, elems []elem) (metric, keys string, err error) {
	if len(elems) == 0 {
		return "", "", errEmptyPath
	}
	var b strings.Builder
	if keptOrigin(origin) {
		b.WriteString(origin)
		b.WriteByte(':')
	}
	for _, e := range elems {
		if e.name == "" {
			return "", "", errors.New("path element without a name")
		}
		b.WriteByte('/')
		b.WriteString(stripModule(e.name))
	}
	return b.String(), canonicalKeys(elems), nil
}

// keptOrigin reports whether a metric names its path's origin: any but
// none, "openconfig", an OpenConfig module and ieee802-dot1ab-lldp. That
// module, named as the origin, reads as its module prefix does
// ("/ieee802-dot1ab-lldp:lldp/…"), so its neighbours are counted and
// linked (lldp.go); no path of its /lldp tree is one of OpenConfig's.
// Other modules keep their origin: their paths may read like another
// model's (ietf-interfaces' /interfaces).
func keptOrigin(origin string) bool {
	return origin != "" && origin != "openconfig" && !strings.HasPrefix(origin, "openconfig-") && origin != ieeeLLDPModule
}

// ieeeLLDPModule is the YANG module of ieeeLLDPEntry.
const ieeeLLDPModule = "ieee802-dot1ab-lldp"

// canonicalKeys formats the list keys of a path: every element's keys in
// path order, within one element sorted by key name, as key=value joined by
// commas, e.g. "name=Ethernet1" or "name=Ethernet1,index=0". A key name that
// an earlier element already used is qualified with its element's name
// ("protocol.name=BGP"), so no two keys read alike. An identityref value
// loses its OpenConfig module (withoutModule), so the JSON_IETF key
// "openconfig-policy-types:BGP" reads "BGP" as in PROTO. Backslash, comma
// and equals sign in a value are escaped with a backslash.
func canonicalKeys(elems []elem) string {
	n := 0
	for _, e := range elems {
		n += len(e.keys)
	}
	if n == 0 {
		return ""
	}
	var b strings.Builder
	seen := make([]string, 0, n)
	for _, e := range elems {
		ks := e.keys
		if len(ks) > 1 {
			ks = slices.Clone(ks)
			slices.SortFunc(ks, func(a, b kv) int { return strings.Compare(a.k, b.k) })
		}
		for _, p := range ks {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			k := stripModule(p.k)
			if slices.Contains(seen, k) {
				b.WriteString(stripModule(e.name))
				b.WriteByte('.')
			}
			seen = append(seen, k)
			b.WriteString(k)
			b.WriteByte('=')
			escapeKey(&b, withoutModule(p.v))
		}
	}
	return b.String()
}

func escapeKey(b *strings.Builder, v string) {
	if !strings.ContainsAny(v, `\,=`) {
		b.WriteString(v)
		return
	}
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\', ',', '=':
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
}

// stripModule drops a YANG module prefix: "openconfig-interfaces:state" is
// "state".
func stripModule(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Metric returns the metric name and canonical keys that the collector
// gives the leaf at prefix+path, e.g. "/interfaces/interface/state/counters/in-octets"
// and "name=Ethernet1" for /interfaces/interface[name=Ethernet1]/state/counters/in-octets.
func Metric(prefix, path *pb.Path) (metric, keys string, err error) {
	origin, elems, err := pathOf(prefix, path)
	if err != nil {
		return "", "", err
	}
	return canonical(origin, elems)
}

// Series returns the metric, the canonical keys and the kind that the
// collector gives the leaf at path, a path in the usual string form
// (ParsePath): "/interfaces/interface[name=Ethernet1]/state/counters/in-octets"
// is the counter "/interfaces/interface/state/counters/in-octets" with
// keys "name=Ethernet1". The kind is the one the collector fixes by the
// leaf's name (the vocabulary, OpenConfig's counters containers, counter
// suffixes), 0 where it takes it from the value's type.
func Series(path string) (metric, keys string, kind schemas.Kind, err error) {
	p, err := ParsePath(path)
	if err != nil {
		return "", "", 0, err
	}
	if metric, keys, err = Metric(nil, p); err != nil {
		return "", "", 0, fmt.Errorf("cannot parse path %q: %w", path, err)
	}
	return metric, keys, classifyKind(metric).kind, nil
}

// ParsePath parses a path in the usual string form,
// "/interfaces/interface[name=Ethernet1]/state", optionally with an origin,
// "openconfig:/interfaces". Key values may hold "/" and "]" escaped with a
// backslash. "*" stands for any value of a key, as in gNMI wildcards.
func ParsePath(s string) (*pb.Path, error) {
	p := &pb.Path{}
	if i := strings.Index(s, ":/"); i > 0 && !strings.ContainsAny(s[:i], "/[") {
		p.Origin, s = s[:i], s[i+1:]
	}
	s = strings.TrimPrefix(s, "/")
	if s == "" {
		return p, nil
	}
	for _, part := range splitPath(s) {
		el, err := parseElementEscaped(part)
		if err != nil {
			return nil, fmt.Errorf("cannot parse path %q: %w", s, err)
		}
		pe := &pb.PathElem{Name: el.name}
		if len(el.keys) > 0 {
			pe.Key = map[string]string{}
			for _, k := range el.keys {
				pe.Key[k.k] = k.v
			}
		}
		p.Elem = append(p.Elem, pe)
	}
	return p, nil
}

// splitPath splits at "/" outside brackets.
func splitPath(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '[':
			depth++
		case ']':
			depth--
		case '/':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func parseElementEscaped(s string) (elem, error) {
	i := strings.IndexByte(s, '[')
	if i < 0 {
		if s == "" {
			return elem{}, errors.New("empty element")
		}
		return elem{name: s}, nil
	}
	e := elem{name: s[:i]}
	rest := s[i:]
	for rest != "" {
		if rest[0] != '[' {
			return elem{}, fmt.Errorf("element %q: want [key=value]", s)
		}
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return elem{}, fmt.Errorf("element %q: want [key=value]", s)
		}
		var v strings.Builder
		j := eq + 1
		for ; j < len(rest) && rest[j] != ']'; j++ {
			if rest[j] == '\\' && j+1 < len(rest) {
				j++
			}
			v.WriteByte(rest[j])
		}
		if j == len(rest) {
			return elem{}, fmt.Errorf("element %q: unterminated key", s)
		}
		e.keys = append(e.keys, kv{rest[1:eq], v.String()})
		rest = rest[j+1:]
	}
	return e, nil
}

// FormatPath formats a path in the form ParsePath reads, keys sorted by
// name.
func FormatPath(p *pb.Path) string {
	var b strings.Builder
	if p.GetOrigin() != "" {
		b.WriteString(p.GetOrigin())
		b.WriteByte(':')
	}
	for _, e := range p.GetElem() {
		b.WriteByte('/')
		b.WriteString(e.GetName())
		ks := make([]string, 0, len(e.GetKey()))
		for k := range e.GetKey() {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		for _, k := range ks {
			v := strings.NewReplacer(`\`, `\\`, "]", `\]`, "/", `\/`).Replace(e.GetKey()[k])
			fmt.Fprintf(&b, "[%s=%s]", k, v)
		}
	}
	if b.Len() == 0 || (p.GetOrigin() != "" && len(p.GetElem()) == 0) {
		b.WriteByte('/')
	}
	return b.String()
}
