// Package prometheus holds telekernel-rules.yaml, the Prometheus alerting
// rules for telekernel's own health, and its promtool unit tests
// (telekernel-rules.test.yaml). Its Go tests run promtool on both, check
// that every alert is tested firing and silent and documented in
// README.md, check the Grafana dashboard deploy/grafana/telekernel-pipeline.json,
// and check that every metric the rules and the dashboard name is one a
// telekernel process serves.
package prometheus

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"gopkg.in/yaml.v3"
)

// The files under test.
const (
	rulesFile     = "telekernel-rules.yaml"
	rulesTestFile = "telekernel-rules.test.yaml"
	readmeFile    = "README.md"
)

// promtool returns the path of promtool (Debian's prometheus package,
// which deploy/local/services.sh installs).
func promtool(t *testing.T) string { return testenv.Tool(t, "promtool", "prometheus") }

// runPromtool runs promtool with args in dir and returns its output.
func runPromtool(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	raw, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var rules []rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s has no rules", rulesFile)
	}
	return rules
}

func TestRulesCheck(t *testing.T) {
	if out, err := runPromtool(t, ".", "check", "rules", rulesFile); err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", rulesFile, err, out)
	}
}

func TestRulesUnitTests(t *testing.T) {
	if out, err := runPromtool(t, ".", "test", "rules", rulesTestFile); err != nil {
		t.Fatalf("promtool test rules %s: %v\n%s", rulesTestFile, err, out)
	}
}

// TestRulesAreComplete: every rule is an alert with a `for`, a severity
// a receiver can route on, a summary and a description, and a runbook
// section (### NAME) in README.md.
func TestRulesAreComplete(t *testing.T) {
	readme, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			t.Errorf("rule %q is not an alert", r.Record)
			continue
		}
		if seen[r.Alert] {
			t.Errorf("%s: defined twice", r.Alert)
		}
		seen[r.Alert] = true
		if _, err := time.ParseDuration(r.For); err != nil {
			t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
		}
		if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
			t.Errorf("%s: severity %q, want critical, warning or info", r.Alert, s)
		}
		if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
			t.Errorf("%s: needs a summary and a description annotation", r.Alert)
		}
		if !regexp.MustCompile(`(?m)^### ` + r.Alert + `$`).Match(readme) {
			t.Errorf("%s: no runbook section `### %s` in %s", r.Alert, r.Alert, readmeFile)
		}
	}
}

// TestEveryAlertTestedBothWays: for every alert, the unit tests hold a
// case where it must fire and one where it must stay silent, and promtool
// notices when the alert is broken: alerts that never fire (their expr
// replaced by an empty one) fail the firing cases, and alerts without
// their `for` fire too early, which fails the silent cases. Each mutant
// breaks every alert at once (one promtool run each); the failures must
// name each broken alert.
func TestEveryAlertTestedBothWays(t *testing.T) {
	raw, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(raw, &tests); err != nil {
		t.Fatalf("%s: %v", rulesTestFile, err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	var all, withFor []string
	for _, r := range loadRules(t) {
		if !fires[r.Alert] || !silent[r.Alert] {
			t.Errorf("%s: the unit tests check it firing: %v, silent: %v; want both", r.Alert, fires[r.Alert], silent[r.Alert])
		}
		all = append(all, r.Alert)
		if d, _ := time.ParseDuration(r.For); d > 0 {
			withFor = append(withFor, r.Alert)
		}
	}
	mutant(t, all, "never fire", func(r *yaml.Node) { setField(r, "expr", "vector(1) < 0") })
	mutant(t, withFor, "have no `for`", func(r *yaml.Node) { setField(r, "for", "0s") })
}

// mutant writes the rules with each of alerts changed by change beside a
// copy of the unit tests, and checks that promtool's tests then fail on
// each of them.
func mutant(t *testing.T, alerts []string, what string, change func(*yaml.Node)) {
	t.Helper()
	raw, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		r := findRule(&doc, a)
		if r == nil {
			t.Fatalf("%s not found in %s", a, rulesFile)
		}
		change(r)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{rulesFile: out, rulesTestFile: tests} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := runPromtool(t, dir, "test", "rules", rulesTestFile)
	if err == nil {
		t.Fatalf("the unit tests pass with alerts that %s", what)
	}
	for _, a := range alerts {
		if !strings.Contains(res, "alertname: "+a+",") {
			t.Errorf("the unit tests do not notice that %s would %s", a, what)
		}
	}
}

// findRule returns the mapping node of the rule named alert.
func findRule(n *yaml.Node, alert string) *yaml.Node {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "alert" && n.Content[i+1].Value == alert {
				return n
			}
		}
	}
	for _, c := range n.Content {
		if r := findRule(c, alert); r != nil {
			return r
		}
	}
	return nil
}

// setField sets the scalar field key of the mapping node m.
func setField(m *yaml.Node, key, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: value}
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Value: value})
}
