package schemas

import (
	"os"
	"strings"
	"testing"
)

// metricsMarkdown renders the vocabulary as README.md's table.
func metricsMarkdown() string {
	var b strings.Builder
	b.WriteString("| metric | kind | fixed | unit | origin | meaning |\n| --- | --- | --- | --- | --- | --- |\n")
	for _, m := range Metrics() {
		name := "`" + m.Name + "`"
		if m.Prefix {
			name = "`" + m.Name + "TYPE`"
		}
		fixed := "no"
		if m.Fixed {
			fixed = "yes"
		}
		kind := m.Kind.String()
		if m.Float32 {
			kind += " (ieeefloat32)"
		}
		unit := m.Unit
		if unit == "" {
			unit = "—"
		}
		b.WriteString("| " + name + " | " + kind + " | " + fixed + " | " + unit + " | " + m.Origin.String() + " | " + m.Meaning + " |\n")
	}
	return b.String()
}

// TestMetricsTableREADME keeps README.md's vocabulary table equal to
// metrics.go; -update rewrites it.
func TestMetricsTableREADME(t *testing.T) {
	const path, begin, end = "README.md", "<!-- metrics:begin -->\n", "<!-- metrics:end -->"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s: no %q … %q section", path, begin, end)
	}
	want := metricsMarkdown()
	if got := doc[i+len(begin) : j]; got != want {
		if updateGolden() {
			if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s: the metric table differs from metrics.go (run go test ./schemas -run MetricsTable -update):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestMetricVocabulary checks the table's invariants: one entry per name,
// a valid kind and origin, units on numbers only, and LookupMetric finding
// every entry (and the names under a prefix).
func TestMetricVocabulary(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Metrics() {
		if seen[m.Name] {
			t.Errorf("%s: twice in the vocabulary", m.Name)
		}
		seen[m.Name] = true
		if !strings.HasPrefix(m.Name, "/") && !strings.HasPrefix(m.Name, "snmp:/") && !strings.HasPrefix(m.Name, "telekernel:/") {
			t.Errorf("%s: not a path", m.Name)
		}
		if m.Kind < KindCounter || m.Kind > KindState || m.Origin.String() == "unknown" || m.Meaning == "" {
			t.Errorf("%s: kind %v, origin %v, meaning %q", m.Name, m.Kind, m.Origin, m.Meaning)
		}
		if (m.Kind == KindState) != (m.Unit == "") && !m.Prefix {
			t.Errorf("%s: kind %v with unit %q", m.Name, m.Kind, m.Unit)
		}
		if m.Float32 && m.Kind != KindGauge {
			t.Errorf("%s: ieeefloat32 but %v", m.Name, m.Kind)
		}
		got, ok := LookupMetric(m.Name)
		if !ok || got != m {
			t.Errorf("LookupMetric(%q) = %+v, %v", m.Name, got, ok)
		}
	}
	f := func(name string, want Kind, ok bool) {
		t.Helper()
		m, found := LookupMetric(name)
		if found != ok || m.Kind != want {
			t.Errorf("LookupMetric(%q) = %v, %v; want %v, %v", name, m.Kind, found, want, ok)
		}
	}
	f(MetricSNMPSensorPrefix+"celsius", KindGauge, true)
	f(MetricInOctets, KindCounter, true)
	f(MetricBGPSessionState, KindState, true)
	f("/interfaces/interface/state/counters/in-octets/x", 0, false)
	f("/unknown", 0, false)
	f("", 0, false)
}

// TestMetricsCopy checks that Metrics hands out a copy.
func TestMetricsCopy(t *testing.T) {
	a := Metrics()
	a[0].Name = "changed"
	if Metrics()[0].Name != MetricInOctets {
		t.Fatal("Metrics returned the table itself")
	}
}

func TestLLDPNeighborKeys(t *testing.T) {
	for _, c := range [][2]string{{"Ethernet1", "spine-0"}, {"Gi0/0/0", "00:11:22:33:44:55"}, {`a,b=c\d`, "x,y"}, {"", ""}} {
		keys := LLDPNeighborKeys(c[0], c[1])
		port, id, ok := ParseLLDPNeighborKeys(keys)
		if !ok || port != c[0] || id != c[1] {
			t.Errorf("ParseLLDPNeighborKeys(%q) = %q, %q, %v; want %q, %q", keys, port, id, ok, c[0], c[1])
		}
	}
	if got := LLDPPortKeys(`Gi0/0,x`); got != `name=Gi0/0\,x` {
		t.Errorf("LLDPPortKeys = %q", got)
	}
	if got := LLDPNeighborKeys("Ethernet1", "spine-0"); got != "name=Ethernet1,id=spine-0" {
		t.Errorf("LLDPNeighborKeys = %q", got)
	}
	for _, bad := range []string{"", "name=Ethernet1", "id=x,name=y", "name=a,id=b,c=d", BGPInstanceKeys} {
		if _, _, ok := ParseLLDPNeighborKeys(bad); ok {
			t.Errorf("ParseLLDPNeighborKeys(%q) ok, want not", bad)
		}
	}
}

// TestSNMPInterfaceKeys: an interface's keys are its ifName, else its
// ifDescr, else "ifIndex" and its index, escaped as the collectors escape
// key values.
func TestSNMPInterfaceKeys(t *testing.T) {
	for _, c := range []struct{ name, descr, index, want string }{
		{"Ethernet1", "Ethernet1 uplink", "3", "name=Ethernet1"},
		{"", "Gi0/1, uplink", "3", `name=Gi0/1\, uplink`},
		{"", "", "3", "name=ifIndex3"},
		{`a=b\c`, "", "", `name=a\=b\\c`},
	} {
		if got := SNMPInterfaceKeys(c.name, c.descr, c.index); got != c.want {
			t.Errorf("SNMPInterfaceKeys(%q, %q, %q) = %q, want %q", c.name, c.descr, c.index, got, c.want)
		}
	}
}

// TestKeyValue: KeyValue reads back each value EscapeKeyValue wrote, a
// backslash, comma or equals sign in it included, and "" for a key the
// keys do not have.
func TestKeyValue(t *testing.T) {
	for _, v := range []string{"Ethernet1", "Port 1, Slot 2", `a\b`, "x=y", `,=\`, ""} {
		keys := "name=" + EscapeKeyValue(v) + ",id=" + EscapeKeyValue(v+"!")
		if got := KeyValue(keys, "name"); got != v {
			t.Errorf("KeyValue(%q, name) = %q, want %q", keys, got, v)
		}
		if got := KeyValue(keys, "id"); got != v+"!" {
			t.Errorf("KeyValue(%q, id) = %q, want %q", keys, got, v+"!")
		}
		if got := KeyValue(keys, "other"); got != "" {
			t.Errorf("KeyValue(%q, other) = %q, want none", keys, got)
		}
	}
}
