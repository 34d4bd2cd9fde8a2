package config

import (
	"strings"
	"testing"
)

// TestSecondYAMLDocumentRefused: a file of several YAML documents (a
// pipeline's file and a collector's joined with "---", as Kubernetes
// manifests are) is refused with its line, since only one document is
// read. Before, everything after the second "---" was silently ignored,
// unknown fields and all, and `check` said ok.
func TestSecondYAMLDocumentRefused(t *testing.T) {
	body := "---\nsim:\n  devices: 3\n---\nkafka:\n  brokerz: [127.0.0.1:9092]\n"
	_, err := Parse("two.yaml", []byte(body))
	if err == nil {
		t.Fatal("a second YAML document was accepted and ignored")
	}
	if !strings.HasPrefix(err.Error(), "two.yaml:4: ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q: want one line naming two.yaml:4", err)
	}
}

// TestTrailingEmptyYAMLDocument: a file ending in "---" (or "---" and a
// comment) holds one document with content, and loads.
func TestTrailingEmptyYAMLDocument(t *testing.T) {
	for _, body := range []string{"sim:\n  devices: 3\n---\n", "sim:\n  devices: 3\n---\n# nothing\n", "---\nsim:\n  devices: 3\n...\n"} {
		if _, err := Parse("x.yaml", []byte(body)); err != nil {
			t.Errorf("%q: %v", body, err)
		}
	}
}
