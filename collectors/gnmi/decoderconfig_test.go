package gnmi

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// TestDecoderConfig: NewDecoder applies the defaults and refuses a bad
// field by name.
func TestDecoderConfig(t *testing.T) {
	b := publish.NewBatch(memory.NewGoAllocator(), "dev1", schemas.SourceGNMI)
	defer b.Release()
	f := func(cfg DecoderConfig, want string) {
		t.Helper()
		if _, err := NewDecoder(b, cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewDecoder(%+v) = %v, want an error naming %q", cfg, err, want)
		}
	}
	f(DecoderConfig{Timestamp: 7}, "timestamp: unknown mode 7")
	f(DecoderConfig{MaxPast: -1}, "max_past, max_future")
	f(DecoderConfig{MaxCacheBytes: -1}, "max_cache_bytes")
	f(DecoderConfig{ResendInterval: -1}, "resend_interval")
	f(DecoderConfig{Full: func() {}}, "max_rows, max_batch_bytes: 0, 0 must be positive with full")
	f(DecoderConfig{MaxRows: 10, MaxBatchBytes: 10}, "full: must be set")
	d := newDecoder(t, b, DecoderConfig{})
	if !d.dedup || !d.derive || d.maxCache != DefaultMaxCacheBytes || d.tsMode != TimestampDevice || d.past != 0 || d.full != nil {
		t.Errorf("defaults: dedup %v derive %v max cache %d mode %v past %d", d.dedup, d.derive, d.maxCache, d.tsMode, d.past)
	}
}
