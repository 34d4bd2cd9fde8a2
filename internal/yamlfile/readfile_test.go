package yamlfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	parse := func(name string, data []byte) (string, error) { return name + "=" + string(data), nil }
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("a: 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(p, parse); err != nil || got != p+"=a: 1" {
		t.Fatalf("ReadFile = %q, %v; want %q, nil", got, err, p+"=a: 1")
	}
	_, err := ReadFile(filepath.Join(t.TempDir(), "missing.yaml"), parse)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot read config: ") {
		t.Fatalf("ReadFile of a missing file: %v, want cannot read config: …", err)
	}
}
