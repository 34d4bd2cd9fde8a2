package publish

import (
	"strings"
	"testing"
)

// TestConfig: New applies the defaults and refuses a bad field by name.
func TestConfig(t *testing.T) {
	f := func(cfg Config, want string) {
		t.Helper()
		_, err := New(nil, cfg)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%+v) = %v, want an error naming %q", cfg, err, want)
		}
	}
	f(Config{}, "publish: topic: must be set")
	f(Config{Topic: "t", MaxRows: -1}, "publish: max_rows: -1 must be positive")
	f(Config{Topic: "t", MaxBatchBytes: 1000}, "publish: max_batch_bytes: 1000 must be at least")
	p, err := New(nil, Config{Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if p.maxRows != DefaultMaxRows || p.maxBytes != DefaultMaxBatchBytes || p.MaxBatchBytes() != DefaultMaxBatchBytes {
		t.Errorf("defaults: max rows %d, max batch bytes %d", p.maxRows, p.maxBytes)
	}
}
