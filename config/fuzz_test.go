package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary YAML to Parse, seeded with the example
// configurations in deploy/: it never panics, and a configuration it
// refuses gets one line naming the file (the form `telekernel check`
// and every command print).
func FuzzParse(f *testing.F) {
	examples, err := filepath.Glob("../deploy/examples/*.yaml")
	if err != nil || len(examples) == 0 {
		f.Fatalf("examples: %v %v", examples, err)
	}
	for _, p := range examples {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("stages: [detect]\ndetect: {transaction: {checkpoint_interval: 60s}}\n"))
	f.Add([]byte("power:\n  model:\n    models:\n      \"a\\nb\": {rel_std: -1}\n")) // a key over two lines
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("fuzz.yaml", data)
		if err == nil {
			return
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "fuzz.yaml") {
			t.Fatalf("not one line naming the file: %q", msg)
		}
	})
}
