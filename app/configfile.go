package app

import (
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/internal/yamlfile"
)

// ParseConfig parses a pipeline config as config.Parse does and checks its
// stages: against the stage registry. Errors name the file, the line and
// the field at fault.
func ParseConfig(name string, data []byte) (*config.Config, error) {
	c, err := config.Parse(name, data)
	if err != nil {
		return nil, err
	}
	if err := CheckStages(c); err != nil {
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
