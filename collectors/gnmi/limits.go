package gnmi

import (
	"errors"
	"fmt"
	"time"
)

// What keeps a decoder bounded and its output clean: the timestamp window,
// the cache limit, batches cut while decoding, and repairs.

// Repair reasons: values published after a repair are counted under one.
const (
	RepairInvalidUTF8 = "invalid_utf8" // invalid UTF-8 in a string value, replaced by U+FFFD
)

// DefaultMaxCacheBytes bounds the memory of one decoder's series caches
// (DecoderConfig.MaxCacheBytes).
const DefaultMaxCacheBytes = 64 << 20

// maxListKeysBytes bounds the estimated memory of the list keys a decoder
// learns from the paths a device sends (json.go's learnKeys): lists are a
// schema's, a few hundred, unless a device makes up names.
const maxListKeysBytes = 1 << 20

// Cache accounting: what an entry costs besides its strings (map slot,
// string headers, the series struct).
const (
	cacheEntryBytes  = 64
	seriesEntryBytes = 160
)

// DecoderConfig configures a Decoder: what it keeps, what it rejects and
// where it cuts batches. The zero value is the defaults.
type DecoderConfig struct {
	// Timestamp sets which time samples carry; default TimestampDevice.
	Timestamp TimestampMode
	// Dedup drops a sample whose timestamp is not newer than the last one
	// published for its series: a resent initial snapshot after a
	// reconnect, or a device that stamps values with their last-change
	// time repeating an unchanged value, carry nothing new. Default (nil)
	// on.
	Dedup *bool
	// DerivePower adds the derived PSU input power
	// (schemas.MetricPSUInPower); default (nil) on.
	DerivePower *bool
	// MaxPast and MaxFuture reject samples whose device timestamp is more
	// than MaxPast before or MaxFuture after the time the response was
	// received (the recvNS given to Decode), counting them under
	// DropBadTime; 0 (the default) leaves that side open. They do not
	// apply in TimestampReceive mode.
	MaxPast, MaxFuture time.Duration
	// MaxCacheBytes bounds the estimated memory of the decoder's series
	// caches; past it they start over (counted in Stats().CacheResets),
	// which forgets deduplication state but keeps memory bounded. Default
	// DefaultMaxCacheBytes.
	MaxCacheBytes int
	// Full, when set, is called whenever the batch reaches MaxRows rows or
	// an estimated MaxBatchBytes of encoded size (publish.Batch.Size), in
	// the middle of a notification if need be; Full must take the batch's
	// rows (NewRecord). Both limits must then be positive. Default nil:
	// batches are cut only by the caller.
	Full                   func()
	MaxRows, MaxBatchBytes int
	// ResendInterval is how often the target sends every leaf of the
	// stream again, changed or not: the sample interval of a SAMPLE
	// subscription (without suppress_redundant), the interval between
	// ONCE or POLL requests. With it, an LLDP neighbour the target stops
	// sending is aged out (lldp.go). Default 0: the target sends changes
	// only (ON_CHANGE, TARGET_DEFINED) or it is not known, and only a
	// delete lowers a port's neighbour count.
	ResendInterval time.Duration
}

// WithDefaults returns c with zero fields set to their defaults.
func (c DecoderConfig) WithDefaults() DecoderConfig {
	if c.Dedup == nil {
		c.Dedup = new(true)
	}
	if c.DerivePower == nil {
		c.DerivePower = new(true)
	}
	if c.MaxCacheBytes == 0 {
		c.MaxCacheBytes = DefaultMaxCacheBytes
	}
	return c
}

// Validate reports the first bad field as "field: problem".
func (c DecoderConfig) Validate() error {
	switch {
	case c.Timestamp != TimestampDevice && c.Timestamp != TimestampReceive:
		return fmt.Errorf("timestamp: unknown mode %d", c.Timestamp)
	case c.MaxPast < 0 || c.MaxFuture < 0:
		return fmt.Errorf("max_past, max_future: %v, %v must not be negative (0: no bound)", c.MaxPast, c.MaxFuture)
	case c.ResendInterval < 0:
		return fmt.Errorf("resend_interval: %v must not be negative (0: not known)", c.ResendInterval)
	case c.MaxCacheBytes < 0:
		return fmt.Errorf("max_cache_bytes: %d must be positive", c.MaxCacheBytes)
	case c.Full != nil && (c.MaxRows < 1 || c.MaxBatchBytes < 1):
		return fmt.Errorf("max_rows, max_batch_bytes: %d, %d must be positive with full", c.MaxRows, c.MaxBatchBytes)
	case c.Full == nil && (c.MaxRows != 0 || c.MaxBatchBytes != 0):
		return errors.New("full: must be set with max_rows and max_batch_bytes")
	}
	return nil
}

// trimCaches starts the caches over when they passed their limit. New maps
// replace the old ones, which Go would not shrink.
func (d *Decoder) trimCaches() {
	if d.cacheBytes <= d.maxCache {
		return
	}
	d.cache, d.canon, d.cacheBytes = map[string]*series{}, map[string]*series{}, 0
	d.jsonBases = nil
	d.lldp = nil // a loss right after this is missed: the neighbours are learned again
	d.stats.CacheResets++
}
