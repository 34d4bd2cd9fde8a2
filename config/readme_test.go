package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/internal/yamlfile"
)

// TestReadmeConfiguration reads the configuration block of README.md
// ("Configuration"): every field it shows exists, it uses no deprecated
// spelling, and its detect section spells out the defaults.
func TestReadmeConfiguration(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "\n## Configuration\n")
	if ok {
		_, rest, ok = strings.Cut(rest, "```yaml\n")
	}
	block, _, found := strings.Cut(rest, "```")
	if !ok || !found {
		t.Fatal(`README.md: no yaml block under "## Configuration"`)
	}
	// Decoded without Validate: the block names secret files and
	// variables this machine does not have.
	c := unset()
	if err := yamlfile.Decode("README.md", []byte(block), &c, func() error {
		if err := c.migrateCollector(); err != nil {
			return err
		}
		c.applyDefaults()
		return c.Detect.Validate()
	}); err != nil {
		t.Fatal(err)
	}
	if d := c.Deprecated(); d != nil {
		t.Errorf("README's configuration uses deprecated spellings: %q", d)
	}
	def, err := Parse("empty.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range detectMetrics {
		for _, counter := range []bool{true, false} {
			if r, d := c.Detect.EnsembleConfig(m, counter), def.Detect.EnsembleConfig(m, counter); !reflect.DeepEqual(r, d) {
				t.Errorf("%s counter=%v: README's detect section is not the default:\nREADME:  %+v\ndefault: %+v", m, counter, r, d)
			}
		}
	}
	if c.Detect.Multivar.Hold != def.Detect.Multivar.Hold || c.Detect.States != def.Detect.States || c.Detect.Transaction != def.Detect.Transaction {
		t.Errorf("README's detect multivar.hold, states or transaction is not the default")
	}
	if c.Detect.Rules.WithDefaults() != def.Detect.Rules.WithDefaults() {
		t.Errorf("README's detect rules are not the defaults:\nREADME:  %+v\ndefault: %+v", c.Detect.Rules.WithDefaults(), def.Detect.Rules.WithDefaults())
	}
}
