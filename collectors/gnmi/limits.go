package gnmi

import "time"

// What keeps a decoder bounded and its output clean: the timestamp window,
// the cache limit, batches cut while decoding, and repairs.

// Repair reasons: values published after a repair are counted under one.
const (
	RepairInvalidUTF8 = "invalid_utf8" // invalid UTF-8 in a string value, replaced by U+FFFD
)

// DefaultMaxCacheBytes bounds the memory of one decoder's series caches
// (WithCacheLimit).
const DefaultMaxCacheBytes = 64 << 20

// Cache accounting: what an entry costs besides its strings (map slot,
// string headers, the series struct).
const (
	cacheEntryBytes  = 64
	seriesEntryBytes = 160
)

// WithTimestampWindow rejects samples whose device timestamp is more than
// past before or future after the time the response was received (the
// recvNS given to Decode), counting them under DropBadTime; 0 leaves that
// side open. Default: no window. It does not apply in TimestampReceive
// mode.
func WithTimestampWindow(past, future time.Duration) DecoderOption {
	return func(d *Decoder) { d.past, d.future = int64(past), int64(future) }
}

// WithCacheLimit bounds the estimated memory of the decoder's series
// caches; past it they start over (counted in Stats().CacheResets), which
// forgets deduplication state but keeps memory bounded. Default
// DefaultMaxCacheBytes.
func WithCacheLimit(bytes int) DecoderOption { return func(d *Decoder) { d.maxCache = bytes } }

// WithBatchLimit calls full whenever the batch reaches maxRows rows or an
// estimated maxBytes of encoded size (publish.Batch.Size), in the middle of
// a notification if need be; full must take the batch's rows (NewRecord).
func WithBatchLimit(maxRows, maxBytes int, full func()) DecoderOption {
	return func(d *Decoder) { d.maxRows, d.maxBytes, d.full = maxRows, maxBytes, full }
}

// trimCaches starts the caches over when they passed their limit. New maps
// replace the old ones, which Go would not shrink.
func (d *Decoder) trimCaches() {
	if d.cacheBytes <= d.maxCache {
		return
	}
	d.cache, d.canon, d.cacheBytes = map[string]*series{}, map[string]*series{}, 0
	d.stats.CacheResets++
}
