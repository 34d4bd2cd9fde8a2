package yamlfile

import (
	"strings"
	"testing"
	"time"
)

type inner struct {
	Addr    []string      `yaml:"addr"`
	Timeout time.Duration `yaml:"timeout"`
}

type doc struct {
	Name  string  `yaml:"name"`
	Inner inner   `yaml:"inner"`
	Items []inner `yaml:"items"`
	Embed `yaml:",inline"`
}

// Embed is inlined: its fields are suggested at the top level.
type Embed struct {
	Devices int `yaml:"devices"`
}

// TestDecodeErrors: every decode error is one line "NAME:LINE: path: problem".
func TestDecodeErrors(t *testing.T) {
	f := func(in, want string) { t.Helper(); decodeFails(t, in, want) }
	f("inner:\n  adr: [x]\n", "f.yaml:2: inner.adr: unknown field (did you mean addr?)")
	f("devics: 3\n", "f.yaml:1: devics: unknown field (did you mean devices?)")
	f("bogus: 3\n", "f.yaml:1: bogus: unknown field")
	f("inner:\n  timeout: 30\n", "f.yaml:2: inner.timeout: 30 is not a duration: give a unit, e.g. 30s (or 30ms, 30m)")
	f("items:\n  - {addr: [a], timeout: soon}\n", `f.yaml:2: items[0].timeout: "soon" is not a duration like 10s, 1m30s or 500ms`)
	// A value over several lines stays on one (found by config.FuzzParse).
	f("inner:\n  timeout: \"1\\n\\n2\"\n", `f.yaml:2: inner.timeout: "1\n\n2" is not a duration like 10s, 1m30s or 500ms`)
	f("inner: |\n  a\n  b\n", `f.yaml:1: inner: "a\nb\n" is not a section (write its fields indented below it)`)
	f("\"na\\nme\": 1\n", `f.yaml:1: na\nme: unknown field (did you mean name?)`)
	f("inner:\n  addr: {a: 1}\n", "f.yaml:2: inner.addr: a section where a list belongs")
	f("name: [a, b]\n", "f.yaml:1: name: a list where a string belongs")
	f("devices: 1\nname: x\nbogus: 1\ninner: {timeout: 5}\n",
		"f.yaml:3: bogus: unknown field; f.yaml:4: inner.timeout: 5 is not a duration: give a unit, e.g. 5s (or 5ms, 5m)")
	// yaml.v3 quotes a value over 10 bytes as its first 7 and "...": the
	// field is still found, and the whole value shown.
	f("inner:\n  addr: 127.0.0.1:9092\n", `f.yaml:2: inner.addr: "127.0.0.1:9092" is not a list (write [a, b] or one "- item" per line)`)
	f("devices: veryfastindeed\n", `f.yaml:1: devices: "veryfastindeed" is not an integer`)
	f("items:\n  - {timeout: 1234567890abc}\n", `f.yaml:2: items[0].timeout: "1234567890abc" is not a duration like 10s, 1m30s or 500ms`)
	// Two alike values on one line are two errors, each at its field.
	f("items: [{timeout: soon after}, {timeout: soon after}]\n",
		`f.yaml:1: items[0].timeout: "soon after" is not a duration like 10s, 1m30s or 500ms; f.yaml:1: items[1].timeout: "soon after" is not a duration like 10s, 1m30s or 500ms`)
}

// TestTypeNames: a wrong type is named in the user's words, not Go's.
func TestTypeNames(t *testing.T) {
	f := func(tag, value, goType, want string) {
		t.Helper()
		if got := typeProblem(tag, value, goType); got != want {
			t.Errorf("typeProblem(%q, %q, %q) = %q, want %q", tag, value, goType, got, want)
		}
	}
	f("str", "ten", "int", `"ten" is not an integer`)
	f("str", "fast", "float64", `"fast" is not a number`)
	f("float", "1.5", "int32", `"1.5" is not an integer`)
	f("int", "-1", "uint64", "-1 is out of range for an integer of 0 or more")
	f("int", "99999999999", "int32", "99999999999 is out of range for an integer")
	f("seq", "", "float64", "a list where a number belongs")
	f("map", "", "time.Duration", "a section where a duration belongs")
	f("seq", "", "config.Sim", "a list where a section belongs")
	f("str", "x", "config.Sim", `"x" is not a section (write its fields indented below it)`)
}

// TestSyntaxErrors: a YAML syntax error is "NAME:LINE: problem", at the
// line of the problem or of the collection it is in.
func TestSyntaxErrors(t *testing.T) {
	f := func(in, want string) { t.Helper(); decodeFails(t, in, want) }
	f("\tname: x\n", "f.yaml:1: tabs are not allowed for indentation (indent with spaces)")
	f("inner:\n\ttimeout: 1s\n", "f.yaml:2: tabs are not allowed for indentation (indent with spaces)")
	f("name: x\n\tdevices: 2\n", "f.yaml:2: tabs are not allowed for indentation (indent with spaces)")
	// yaml.v3 gives the line of "1s", the tab is on the next.
	f("inner:\n  timeout: 1s\n\taddr: [a]\n", "f.yaml:3: tabs are not allowed for indentation (indent with spaces)")
	f("name: `x`\n", "f.yaml:1: found character that cannot start any token")
	// A flow collection opened on line 1: the line of the problem.
	f("inner: {timeout: 1s\n  addr: [a]}\n", "f.yaml:2: did not find expected ',' or '}' in the flow mapping {…} that starts at line 1")
	// Opened below: the line where it opens.
	f("name: x\ninner: {timeout: 1s, addr: [a]]\n", "f.yaml:2: did not find expected ',' or '}' in the flow mapping {…} that starts on this line")
	f("name: x\ninner:\n  addr: [a, b\n  timeout: 1s\n", "f.yaml:3: did not find expected ',' or ']' in the flow list […] that starts on this line")
	f("items:\n  - timeout: 1s\n  name: x\n", "f.yaml:2: did not find expected '-' indicator")
	f("name: x\n name: y\n", "f.yaml:2: mapping values are not allowed in this context")
	f("inner: [\n", "f.yaml:1: did not find expected node content at the end of the file")
	f("name: *nope\n", "f.yaml: unknown anchor 'nope' referenced")
}

func TestSuggest(t *testing.T) {
	f := func(names []string, s, want string) {
		t.Helper()
		if got := Suggest(names, s); got != want {
			t.Errorf("Suggest(%v, %q) = %q, want %q", names, s, got, want)
		}
	}
	f([]string{"brokers", "tls", "sasl"}, "brokerz", "brokers")
	f([]string{"brokers", "tls", "sasl"}, "broker", "brokers")
	f([]string{"flush_interval", "flush_rows"}, "flush_intervall", "flush_interval")
	f([]string{"brokers", "tls"}, "zzzzzz", "")
	if !strings.Contains(typeProblem("bool", "yes please", "bool"), "true or false") {
		t.Error("bool problem")
	}
}

// decodeFails checks that decoding in into a doc fails with want.
func decodeFails(t *testing.T, in, want string) {
	t.Helper()
	var d doc
	err := Decode("f.yaml", []byte(in), &d, func() error { return nil })
	if err == nil || err.Error() != want {
		t.Errorf("%q:\ngot  %v\nwant %s", in, err, want)
	}
}
