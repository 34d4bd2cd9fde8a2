package gnmi

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/telekernel/telekernel/schemas"
)

// value.go: a TypedValue (proto or JSON_IETF) to a scalar, and a scalar
// fitted to a series' kind. Pure: no Decoder state.

// scalar is a decoded value before it is fitted to a kind.
type scalar struct {
	typ  uint8 // one of the sc* constants
	u    uint64
	i    int64
	f    float64
	s    []byte // string or bytes; aliases the message
	json bool   // s came from a JSON string (RFC 7951 numbers are strings)
}

const (
	scNone = iota
	scUint
	scInt
	scFloat
	scString
	scBytes
	scBool
	scUnsupported
)

// kindOf picks the kind of a leaf not in the table from its first value:
// a number is a gauge, but a whole number of a leaf whose name reads as a
// count of events (counting) is a counter; anything else is a state.
func kindOf(sc *scalar, counting bool) schemas.Kind {
	switch sc.typ {
	case scUint:
		if counting {
			return schemas.KindCounter
		}
		return schemas.KindGauge
	case scInt:
		if counting && sc.i >= 0 {
			return schemas.KindCounter
		}
		return schemas.KindGauge
	case scFloat:
		return schemas.KindGauge
	case scString:
		if sc.json && isNumber(sc.s) {
			if _, err := strconv.ParseUint(bstr(sc.s), 10, 64); counting && err == nil {
				return schemas.KindCounter
			}
			return schemas.KindGauge
		}
	}
	return schemas.KindState
}

// fit converts sc to se's kind into s. Counters never go through float64.
func fit(se *series, sc *scalar, s *schemas.Sample) bool {
	switch se.kind {
	case schemas.KindCounter:
		switch sc.typ {
		case scUint:
			s.U64 = sc.u
		case scInt:
			if sc.i < 0 {
				return false
			}
			s.U64 = uint64(sc.i)
		case scFloat:
			if sc.f < 0 || sc.f >= maxIntInFloat || sc.f != math.Trunc(sc.f) {
				return false
			}
			s.U64 = uint64(sc.f)
		case scString:
			u, err := strconv.ParseUint(bstr(sc.s), 10, 64)
			if err != nil {
				return false
			}
			s.U64 = u
		default:
			return false
		}
	case schemas.KindGauge:
		switch sc.typ {
		case scUint:
			s.F64 = float64(sc.u)
		case scInt:
			s.F64 = float64(sc.i)
		case scFloat:
			s.F64 = sc.f
		case scBool:
			s.F64 = float64(sc.u)
		case scBytes:
			if len(sc.s) != 4 {
				return false
			}
			s.F64 = float32bytes(sc.s)
		case scString:
			f, err := strconv.ParseFloat(bstr(sc.s), 64)
			if err != nil {
				if !se.info.float32 || !sc.json {
					return false
				}
				// RFC 7951: binary (ieeefloat32) is base64 in JSON.
				var buf [8]byte
				n, ok := decodeBase64(buf[:], sc.s)
				if !ok || n != 4 {
					return false
				}
				f = float32bytes(buf[:4])
			}
			s.F64 = f
		default:
			return false
		}
	default:
		switch sc.typ {
		case scString:
			s.Str = stateString(sc.s)
		case scBool:
			s.Str = "false"
			if sc.u != 0 {
				s.Str = "true"
			}
		case scUint:
			s.Str = strconv.FormatUint(sc.u, 10)
		case scInt:
			s.Str = strconv.FormatInt(sc.i, 10)
		case scFloat:
			s.Str = strconv.FormatFloat(sc.f, 'g', -1, 64)
		default:
			return false
		}
	}
	return true
}

// stateString returns the state text, without the YANG module prefix of an
// identityref ("openconfig-platform-types:FAN" is "FAN"), so PROTO and
// JSON_IETF encodings of one value agree. The result aliases b: the builder
// copies it.
func stateString(b []byte) string { return withoutModule(bstr(b)) }

// withoutModule returns s without the OpenConfig module prefix of an
// identityref ("openconfig-policy-types:BGP" is "BGP"); other text is s.
func withoutModule(s string) string {
	if len(s) > 11 && s[:11] == "openconfig-" {
		if i := strings.IndexByte(s[11:], ':'); i >= 0 {
			return s[11+i+1:]
		}
	}
	return s
}

// bstr views b as a string without copying; the string must not outlive b.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func float32bytes(b []byte) float64 {
	return float32Decimal(math.Float32frombits(binary.BigEndian.Uint32(b)))
}

// float32Decimal widens f keeping its shortest decimal form: float32
// values like 12.3 are 12.300000190734863 as a plain float64.
func float32Decimal(f float32) float64 {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return float64(f)
	}
	var buf [32]byte
	g, _ := strconv.ParseFloat(bstr(strconv.AppendFloat(buf[:0], float64(f), 'g', -1, 32)), 64)
	return g
}

// parseTypedValue decodes a TypedValue's oneof.
func parseTypedValue(raw []byte, sc *scalar) bool {
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return false
		}
		raw = raw[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(raw)
			if n < 0 {
				return false
			}
			raw = raw[n:]
			switch num {
			case 2:
				sc.typ, sc.i = scInt, int64(v)
			case 3:
				sc.typ, sc.u = scUint, v
			case 4:
				sc.typ, sc.u = scBool, min(v, 1)
			}
		case protowire.Fixed32Type:
			v, n := protowire.ConsumeFixed32(raw)
			if n < 0 {
				return false
			}
			raw = raw[n:]
			if num == 6 { // float_val: a float32, kept with its decimals
				sc.typ, sc.f = scFloat, float32Decimal(math.Float32frombits(v))
			}
		case protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(raw)
			if n < 0 {
				return false
			}
			raw = raw[n:]
			if num == 14 { // double_val
				sc.typ, sc.f = scFloat, math.Float64frombits(v)
			}
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(raw)
			if n < 0 {
				return false
			}
			raw = raw[n:]
			switch num {
			case 1, 12: // string_val, ascii_val
				sc.typ, sc.s, sc.json = scString, v, false
			case 5: // bytes_val
				sc.typ, sc.s = scBytes, v
			case 7: // decimal_val
				f, ok := parseDecimal64(v)
				if !ok {
					return false
				}
				sc.typ, sc.f = scFloat, f
			case 10, 11: // json_val, json_ietf_val
				sc.typ, sc.s, sc.json = scString, v, true
			default: // leaflist_val, any_val, proto_bytes
				sc.typ = scUnsupported
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, raw)
			if n < 0 {
				return false
			}
			raw = raw[n:]
		}
	}
	return true
}

func parseDecimal64(raw []byte) (float64, bool) {
	var digits int64
	var prec uint64
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 || typ != protowire.VarintType {
			return 0, false
		}
		raw = raw[n:]
		v, n := protowire.ConsumeVarint(raw)
		if n < 0 {
			return 0, false
		}
		raw = raw[n:]
		switch num {
		case 1:
			digits = int64(v)
		case 2:
			prec = v
		}
	}
	if prec > 18 {
		return 0, false
	}
	// Divide by an exact power of ten, so 4530/10^2 is the nearest double
	// to 45.3.
	return float64(digits) / math.Pow10(int(prec)), true
}

// jsonValue returns the JSON text of a TypedValue that holds json_val or
// json_ietf_val.
func jsonValue(raw []byte) ([]byte, bool) {
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return nil, false
		}
		raw = raw[n:]
		if typ == protowire.BytesType && (num == 10 || num == 11) {
			v, n := protowire.ConsumeBytes(raw)
			if n < 0 {
				return nil, false
			}
			return trimSpace(v), true
		}
		n = protowire.ConsumeFieldValue(num, typ, raw)
		if n < 0 {
			return nil, false
		}
		raw = raw[n:]
	}
	return nil, false
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\n' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
