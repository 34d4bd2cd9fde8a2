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
// list, the scalar members at the top of each entry are its keys, as in
// OpenConfig, where key leaves sit beside the config and state containers.
// An entry of scalars only is dropped as unsupported: JSON does not mark
// keys and the collector has no YANG schema, so its keys cannot be told
// from its values. Leaf-lists are not mapped.
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
	var walk func(sub []string, v any)
	walk = func(sub []string, v any) {
		switch x := v.(type) {
		case map[string]any:
			names := make([]string, 0, len(x))
			for k := range x {
				names = append(names, k)
			}
			slices.Sort(names)
			for _, k := range names {
				walk(append(sub, k), x[k])
			}
		case []any:
			if len(sub) == 0 {
				d.stats.Updates++
				d.drop(dropUnsupported)
				return
			}
			example := "" // the list's metric, worked out at its first drop
			for _, e := range x {
				entry, ok := e.(map[string]any)
				if !ok { // leaf-list
					d.stats.Updates++
					d.drop(dropUnsupported)
					return
				}
				var keys []string
				rest := map[string]any{}
				for k, v := range entry {
					switch v.(type) {
					case map[string]any, []any:
						rest[k] = v
					default:
						keys = append(keys, stripModule(k)+"="+jsonText(v))
					}
				}
				if len(rest) == 0 && len(keys) > 0 {
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
				walk(append(slices.Clone(sub[:len(sub)-1]), name), rest)
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
	walk(nil, v)
	return n
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
