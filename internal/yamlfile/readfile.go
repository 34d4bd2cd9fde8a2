package yamlfile

import (
	"fmt"
	"os"
)

// ReadFile reads the config file at path and parses it with parse, which
// names the file path in its errors. A file that cannot be read is the
// error "cannot read config: reason".
func ReadFile[T any](path string, parse func(name string, data []byte) (T, error)) (T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("cannot read config: %w", err)
	}
	return parse(path, data)
}
