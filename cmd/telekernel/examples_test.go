package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/collectors/sim/agent"
)

// TestDeployExamples checks every example config in deploy/ with `telekernel
// check` (TLS files pointed at a real CA, secrets and the data folder at
// temporary ones), that each binds its endpoints to 127.0.0.1 and that the
// Kubernetes ConfigMap carries the pipeline and gNMI collector examples
// unchanged.
func TestDeployExamples(t *testing.T) {
	pki, err := agent.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(pki.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	tlsDir := t.TempDir()
	for _, name := range []string{"kafka-ca.pem", "clickhouse-ca.pem", "devices-ca.pem"} {
		if err := os.WriteFile(filepath.Join(tlsDir, name), ca, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secrets, data := t.TempDir(), t.TempDir()
	for _, name := range []string{"kafka-password", "snmp-community"} {
		if err := os.WriteFile(filepath.Join(secrets, name), []byte("pw\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, env := range []string{"CLICKHOUSE_PASSWORD", "GNMI_PASSWORD", "SNMP_AUTH_PASSWORD", "SNMP_PRIV_PASSWORD", "METRICS_PASSWORD"} {
		t.Setenv(env, "pw")
	}
	local := strings.NewReplacer("/etc/telekernel/tls/", tlsDir+"/", "/etc/telekernel/secrets/", secrets+"/", "/var/lib/telekernel/", data+"/")
	examples, err := filepath.Glob("../../deploy/examples/*.yaml")
	if err != nil || len(examples) < 3 {
		t.Fatalf("examples: %v %v", examples, err)
	}
	files := map[string]string{}
	for _, p := range examples {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = string(b)
		f := writeFile(t, filepath.Base(p), local.Replace(string(b)))
		if code, out, stderr := tk(t, "check", "-c", f); code != 0 || !strings.Contains(out, "ok") || stderr != "" {
			t.Errorf("%s: check exit %d: %s%s", p, code, out, stderr)
		}
		type http struct {
			Listen string `yaml:"listen"`
		}
		var top struct {
			HTTP    http `yaml:"http"`
			Collect struct {
				HTTP http `yaml:"http"`
			} `yaml:"collect"`
		}
		err = yaml.Unmarshal(b, &top)
		listen, field := top.HTTP.Listen, "http.listen"
		if strings.HasPrefix(filepath.Base(p), "collect-") {
			listen, field = top.Collect.HTTP.Listen, "collect.http.listen"
		}
		if err != nil || !strings.HasPrefix(listen, "127.0.0.1:") {
			t.Errorf("%s: %s is %q (%v), want 127.0.0.1:PORT", p, field, listen, err)
		}
	}

	raw, err := os.ReadFile("../../deploy/kubernetes/telekernel.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	kinds := map[string]int{}
	carried := map[string]bool{}
	for {
		var doc struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
		}
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("kubernetes manifest: %v", err)
		}
		kinds[doc.Kind]++
		for name, body := range doc.Data {
			carried[name] = true
			if files[name] != body {
				t.Errorf("the ConfigMap's %s differs from deploy/examples/%s", name, name)
			}
		}
	}
	for _, name := range []string{"pipeline.yaml", "collect-gnmi.yaml"} {
		if !carried[name] {
			t.Errorf("the ConfigMap does not carry deploy/examples/%s", name)
		}
	}
	if kinds["ConfigMap"] != 1 || kinds["Deployment"] < 6 {
		t.Errorf("kubernetes manifest kinds: %v", kinds)
	}
}
