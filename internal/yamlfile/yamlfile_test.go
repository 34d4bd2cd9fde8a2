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
	f := func(in, want string) {
		t.Helper()
		var d doc
		err := Decode("f.yaml", []byte(in), &d, func() error { return nil })
		if err == nil || err.Error() != want {
			t.Errorf("%q:\ngot  %v\nwant %s", in, err, want)
		}
	}
	f("inner:\n  adr: [x]\n", "f.yaml:2: inner.adr: unknown field (did you mean addr?)")
	f("devics: 3\n", "f.yaml:1: devics: unknown field (did you mean devices?)")
	f("bogus: 3\n", "f.yaml:1: bogus: unknown field")
	f("inner:\n  timeout: 30\n", "f.yaml:2: inner.timeout: 30 is not a duration: give a unit, e.g. 30s (or 30ms, 30m)")
	f("items:\n  - {addr: [a], timeout: soon}\n", `f.yaml:2: items[0].timeout: "soon" is not a duration like 10s, 1m30s or 500ms`)
	// A value over several lines stays on one (found by config.FuzzParse).
	f("inner:\n  timeout: \"1\\n\\n2\"\n", `f.yaml:2: inner.timeout: "1\n\n2" is not a duration like 10s, 1m30s or 500ms`)
	f("inner: |\n  a\n  b\n", `f.yaml:1: inner: "a\nb\n" is not a section (write its fields indented below it)`)
	f("\"na\\nme\": 1\n", `f.yaml:1: na\nme: unknown field (did you mean name?)`)
	f("inner:\n  addr: {a: 1}\n", "f.yaml:2: inner.addr: a section where a []string belongs")
	f("name: [a, b]\n", "f.yaml:1: name: a list where a string belongs")
	f("devices: 1\nname: x\nbogus: 1\ninner: {timeout: 5}\n",
		"f.yaml:3: bogus: unknown field; f.yaml:4: inner.timeout: 5 is not a duration: give a unit, e.g. 5s (or 5ms, 5m)")
}

func TestSuggest(t *testing.T) {
	f := func(names []string, s, want string) {
		t.Helper()
		if got := suggest(names, s); got != want {
			t.Errorf("suggest(%v, %q) = %q, want %q", names, s, got, want)
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
