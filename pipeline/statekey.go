package pipeline

import (
	"fmt"
	"strings"

	"github.com/telekernel/telekernel/schemas"
)

// StateKey encodes a series as a changelog key: device, metric and keys
// separated by NUL, which none of them may contain.
func StateKey(dst []byte, k schemas.SeriesKey) []byte {
	dst = append(dst, k.Device...)
	dst = append(dst, 0)
	dst = append(dst, k.Metric...)
	dst = append(dst, 0)
	return append(dst, k.Keys...)
}

// ParseStateKey decodes a changelog key that StateKey wrote.
func ParseStateKey(b []byte) (schemas.SeriesKey, error) {
	parts := strings.SplitN(string(b), "\x00", 3)
	if len(parts) != 3 {
		return schemas.SeriesKey{}, fmt.Errorf("changelog key %q is not device\\0metric\\0keys", b)
	}
	return schemas.SeriesKey{Device: parts[0], Metric: parts[1], Keys: parts[2]}, nil
}
