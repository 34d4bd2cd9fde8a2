package app

import (
	"fmt"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/internal/yamlfile"
	"github.com/telekernel/telekernel/stages/inventory"
)

// ParseConfig parses a pipeline config as config.Parse does, checks its
// stages: against the stage registry and loads correlate.inventory as a
// start would. Errors name the file, the line and
// the field at fault.
func ParseConfig(name string, data []byte) (*config.Config, error) {
	return parseConfigAs(name, data, nil)
}

// parseConfigAs is ParseConfig with config.ParseAs's adjust.
func parseConfigAs(name string, data []byte, adjust func(*config.Config)) (*config.Config, error) {
	c, err := config.ParseAs(name, data, adjust)
	if err != nil {
		return nil, err
	}
	err = CheckStages(c)
	if err == nil && c.Correlate.Inventory != "" {
		// What the stages' start loads (baseInventory): a file that does
		// not load fails here, not at start.
		if _, _, lerr := inventory.LoadFile(c.Correlate.Inventory); lerr != nil {
			err = fmt.Errorf("correlate.inventory: %w", lerr)
		}
	}
	if err != nil {
		// Decode again only to place the error on its line.
		var again config.Config
		return nil, yamlfile.Decode(name, data, &again, func() error { return err })
	}
	return c, nil
}

// LoadConfig reads and parses the pipeline config file at path
// (ParseConfig).
func LoadConfig(path string) (*config.Config, error) {
	return yamlfile.ReadFile(path, ParseConfig)
}

// LoadConfigAs reads and parses the pipeline config file at path as
// LoadConfig does, with adjust applied before validation (config.ParseAs).
func LoadConfigAs(path string, adjust func(*config.Config)) (*config.Config, error) {
	return yamlfile.ReadFile(path, func(name string, data []byte) (*config.Config, error) {
		return parseConfigAs(name, data, adjust)
	})
}
