package parquet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/telekernel/telekernel/internal/intmath"
	"github.com/telekernel/telekernel/schemas"
)

// ErrOffsetOrder is returned (wrapped) by Add when a message's offset is not
// after the last offset buffered for its partition. After a rebalance or a
// seek, Discard the partition (or DiscardFrom the earlier offset) before
// adding from an earlier offset.
var ErrOffsetOrder = errors.New("offset not after the last buffered offset")

const hourNanos = int64(time.Hour)

// File describes one file written by Flush.
type File struct {
	// Path is the file's path: Root/Table/dt=…/hour=…/name.parquet.
	Path string
	// Topic and Partition are the Kafka source of the rows.
	Topic     string
	Partition int32
	// FirstOffset and LastOffset are the offsets of the first and last
	// message whose rows are in the file.
	FirstOffset, LastOffset int64
	// Rows is the number of rows in the file.
	Rows int64
	// Bytes is the file's size.
	Bytes int64
	// Hour is the UTC hour of the file's samples (its dt= and hour= folder).
	Hour time.Time
	// FirstTime is the Kafka timestamp of the message at FirstOffset, to the
	// millisecond (MetaFirstTime); zero when it was not given (Add).
	FirstTime time.Time
}

// Stats are the Writer's running totals since New.
type Stats struct {
	Flushes int64 // successful calls of Flush
	Files   int64 // files written by successful flushes
	Rows    int64 // rows in those files
	Bytes   int64 // bytes of those files
	// Replaced counts files removed or renamed over because a re-delivery
	// (after a crash or a rebalance) wrote their rows again (see Flush). A
	// file a failed Flush left in place, which its retry writes again, is
	// not one: nothing was re-delivered.
	Replaced int64
	// OwnReplaced and OwnReplacedRows count the replaced files (and their
	// rows) that a successful flush of this Writer returned, known by path:
	// they are in Files and Rows too, so Files-OwnReplaced files and
	// Rows-OwnReplacedRows rows written by this Writer are on disk, unless
	// another member removed some, or a re-delivery reached back past the
	// latest flush of a partition (its commit and the next ones failed):
	// the Writer remembers only the files of each partition's latest
	// flush, so those count in Replaced only.
	OwnReplaced, OwnReplacedRows int64
}

// Writer buffers samples per Kafka partition and writes them to Parquet
// files on Flush. It is safe for concurrent use; Add blocks while a Flush
// runs, which is the back-pressure a consumer wants.
type Writer struct {
	cfg Config
	log *slog.Logger
	enc *encoder

	mu       sync.Mutex
	parts    map[partKey]*partBuffer
	buffered atomic.Int64 // rows in parts; written under mu, read without
	stats    Stats
	scratch  [4][]uint32 // dictionary index → interned id, one per dictionary column
	keys     []sortKey   // Flush's sort keys, reused
	series   map[[3]uint32]uint32
	order    []uint32 // Flush's row order, reused
	// from is, per partition, the offset of the first message added since
	// the Writer was made or the partition was discarded: where its
	// re-read began. A file of the partition that starts before it holds
	// rows of offsets no one is reading again, so it is never removed (see
	// removeOverlaps).
	from map[partKey]int64
}

type partKey struct {
	topic     string
	partition int32
}

// New returns a Writer for cfg. It validates cfg and applies the defaults;
// it does not touch the file system until the first Flush.
func New(cfg Config, opts ...Option) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	cfg = cfg.WithDefaults()
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	enc, err := newEncoder(cfg)
	if err != nil {
		return nil, err
	}
	return &Writer{
		cfg:   cfg,
		log:   o.logger.With("component", "sinks/parquet"),
		enc:   enc,
		parts: make(map[partKey]*partBuffer),
		from:  make(map[partKey]int64),
	}, nil
}

// Config returns the Writer's configuration with defaults applied.
func (w *Writer) Config() Config { return w.cfg }

// Add buffers the rows of one Kafka message: rec, a record of the samples
// schema, read from topic's partition at offset. Offsets of one partition
// must increase from one Add to the next until the partition is flushed or
// discarded; otherwise Add returns an error wrapping ErrOffsetOrder. Add
// copies what it needs: the caller keeps ownership of rec and may release it
// as soon as Add returns. A record with no rows is accepted and extends the
// partition's offset range. On error nothing is buffered.
//
// Add does not know the message's Kafka timestamp; AddTimed, which Stage
// calls, does, and keeps committed files of a topic that was deleted and
// recreated.
func (w *Writer) Add(topic string, partition int32, offset int64, rec arrow.RecordBatch) error {
	return w.AddTimed(topic, partition, offset, time.Time{}, rec)
}

// AddTimed is Add for a message whose Kafka timestamp is known (zero means
// unknown, as with Add). Offsets alone do not tell the messages of a topic
// from those of a topic of the same name that was deleted and recreated,
// which start again at offset 0: the files record the timestamp of their
// first message (MetaFirstTime), and a flush removes or replaces a file
// whose offsets it overlaps only when it holds the message at the file's
// first offset with that timestamp (or one of them is unknown). A file of
// other messages is kept, renamed out of the way (see keepOtherMessages).
func (w *Writer) AddTimed(topic string, partition int32, offset int64, kafkaTime time.Time, rec arrow.RecordBatch) error {
	if err := checkSource(topic, partition, offset); err != nil {
		return fmt.Errorf("cannot add message: %w", err)
	}
	r, err := schemas.NewSampleReader(rec)
	if err != nil {
		return fmt.Errorf("cannot add message %s/%d@%d: %w", topic, partition, offset, err)
	}
	dicts := [4]*array.Dictionary{
		rec.Column(schemas.ColDevice).(*array.Dictionary),
		rec.Column(schemas.ColMetric).(*array.Dictionary),
		rec.Column(schemas.ColKeys).(*array.Dictionary),
		rec.Column(schemas.ColSource).(*array.Dictionary),
	}
	var idx [4][]int32
	for c, d := range dicts {
		idx[c] = d.Indices().(*array.Int32).Int32Values()
		n := int32(d.Dictionary().Len())
		for i, v := range idx[c] {
			if (v < 0 || v >= n) && d.IsValid(i) {
				return fmt.Errorf("cannot add message %s/%d@%d: row %d: dictionary index %d out of range [0,%d)", topic, partition, offset, i, v, n)
			}
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	key := partKey{topic, partition}
	b := w.parts[key]
	if b == nil {
		b = newPartBuffer(topic, partition)
		w.parts[key] = b
	}
	if b.msgs > 0 && offset <= b.last {
		return fmt.Errorf("cannot add message %s/%d@%d: %w %d", topic, partition, offset, ErrOffsetOrder, b.last)
	}

	// Translate each dictionary once, so rows cost no map lookups for them.
	var ids [4][]uint32
	for c, d := range dicts {
		ids[c] = b.translate(d.Dictionary().(*array.String), w.scratch[c][:0])
		w.scratch[c] = ids[c]
	}
	empty := b.intern("")

	n := r.Len()
	b.rows = slices.Grow(b.rows, n)
	var (
		curHour int64
		hr      *hourRange
	)
	for i := range n {
		ts := r.TS(i)
		row := row{ts: ts, kind: uint8(r.Kind(i)), str: empty}
		row.device = id(ids[0], idx[0], dicts[0], i, empty)
		row.metric = id(ids[1], idx[1], dicts[1], i, empty)
		row.keys = id(ids[2], idx[2], dicts[2], i, empty)
		row.source = id(ids[3], idx[3], dicts[3], i, empty)
		if v, ok := r.U64(i); ok {
			row.u64, row.valid = v, row.valid|validU64
		}
		if v, ok := r.F64(i); ok {
			row.f64, row.valid = v, row.valid|validF64
		}
		if v, ok := r.Str(i); ok {
			row.str, row.valid = b.intern(v), row.valid|validStr
		}
		if h := intmath.FloorDiv(ts, hourNanos); hr == nil || h != curHour {
			curHour, hr = h, b.hour(h, offset)
		}
		hr.last = offset
		hr.rows++
		b.rows = append(b.rows, row)
	}
	if b.msgs == 0 {
		b.first = offset
	}
	b.stamps = append(b.stamps, msgStamp{offset: offset, ms: unixMilli(kafkaTime), row: len(b.rows) - n})
	if _, ok := w.from[key]; !ok {
		w.from[key] = offset
	}
	b.last = offset
	b.msgs++
	w.buffered.Add(int64(n))
	return nil
}

func id(ids []uint32, idx []int32, d *array.Dictionary, i int, empty uint32) uint32 {
	if d.IsNull(i) {
		return empty
	}
	return ids[idx[i]]
}

func checkSource(topic string, partition int32, offset int64) error {
	// Kafka topic names are [a-zA-Z0-9._-]{1,249}; the name becomes part of
	// a file name, so refuse anything else.
	if topic == "" || len(topic) > 249 || topic == "." || topic == ".." ||
		strings.IndexFunc(topic, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
		}) >= 0 {
		return fmt.Errorf("topic %q is not a valid Kafka topic name", topic)
	}
	if partition < 0 {
		return fmt.Errorf("partition %d is negative", partition)
	}
	// The longest name a file of it gets: the temporary one, with offsets
	// of up to 19 digits. File systems take names of at most 255 bytes.
	if n := len(tempName(dataName(topic, partition, math.MaxInt64, math.MaxInt64))) + len("-4294967295"); n > maxNameBytes {
		return fmt.Errorf("topic %q is %d characters, too long for the Parquet file names it makes (over %d bytes): name a topic of at most %d",
			topic, len(topic), maxNameBytes, len(topic)-(n-maxNameBytes))
	}
	if offset < 0 {
		return fmt.Errorf("offset %d is negative", offset)
	}
	return nil
}

// BufferedRows returns the number of rows added and not yet flushed. Callers
// flush when it reaches their limit. It does not wait for a running Flush.
func (w *Writer) BufferedRows() int { return int(w.buffered.Load()) }

// Discard drops the rows buffered for topic's partition (for instance when
// the partition is revoked in a rebalance, before its new owner re-reads
// from the committed offset) and returns how many rows it dropped.
func (w *Writer) Discard(topic string, partition int32) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.discardLocked(topic, partition)
}

// discardLocked is Discard for a caller that holds w.mu.
func (w *Writer) discardLocked(topic string, partition int32) int {
	key := partKey{topic, partition}
	maps.DeleteFunc(w.enc.unflushed, func(_ string, k partKey) bool { return k == key })
	delete(w.from, key)
	b := w.parts[key]
	if b == nil {
		return 0
	}
	n := len(b.rows)
	w.buffered.Add(-int64(n))
	delete(w.parts, key)
	return n
}

// DiscardFrom drops the rows buffered for topic's partition from the
// messages at offset and after, which the partition is read again from,
// and returns how many rows it dropped; the rows of earlier messages stay,
// as no one reads them again. An offset at or before the first buffered
// one is Discard. A consumer re-reads a partition from inside what it
// buffered when Kafka truncated the partition's log after a leader change
// (the client resets to the new leader's end offset).
func (w *Writer) DiscardFrom(topic string, partition int32, offset int64) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.parts[partKey{topic, partition}]
	if b == nil || b.msgs == 0 || offset <= b.first {
		return w.discardLocked(topic, partition)
	}
	i, _ := slices.BinarySearchFunc(b.stamps, offset, func(m msgStamp, off int64) int { return cmp.Compare(m.offset, off) })
	if i == len(b.stamps) {
		return 0
	}
	n := len(b.rows) - b.stamps[i].row
	b.rows = b.rows[:b.stamps[i].row]
	b.stamps = b.stamps[:i]
	b.msgs = i
	b.last = b.stamps[i-1].offset
	b.rebuildHours()
	w.buffered.Add(-int64(n))
	return n
}

// rebuildHours recomputes the hour ranges of b's messages from their rows.
func (b *partBuffer) rebuildHours() {
	clear(b.hours)
	for i, m := range b.stamps {
		end := len(b.rows)
		if i+1 < len(b.stamps) {
			end = b.stamps[i+1].row
		}
		for _, r := range b.rows[m.row:end] {
			hr := b.hour(intmath.FloorDiv(r.ts, hourNanos), m.offset)
			hr.last = m.offset
			hr.rows++
		}
	}
}

// Stats returns the running totals of successful flushes.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Flush writes every buffered row to Parquet files, makes them durable
// (file fsync, rename into place, directory fsync) and returns them, sorted
// by topic, partition and hour. After it returns without error the buffers
// are empty and the caller may commit the offsets up to each partition's
// last added offset. On error it returns no files and keeps the buffered
// rows, so the caller can retry; files completed before the error stay in
// place, and the retry rewrites them under the same names with the same
// content. Flush checks ctx between files. With nothing buffered it returns
// no files and no error.
//
// Re-delivery stays exact when it flushes at other boundaries than the run
// that crashed: before a file is renamed into place, the files of the same
// topic, partition and hour folder whose offset range overlaps it are
// removed. They can only come from a flush whose offsets were never
// committed, and their rows are being written again (see removeOverlaps).
// This assumes one writer per partition at a time, which the consumer
// group gives; a zombie consumer that still writes after losing its
// partition can remove or duplicate rows until it notices.
func (w *Writer) Flush(ctx context.Context) ([]File, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := time.Now()
	keys := make([]partKey, 0, len(w.parts))
	for k, b := range w.parts {
		if b.msgs > 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b partKey) int {
		return cmp.Or(strings.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
	var files []File
	for _, k := range keys {
		fs, err := w.flushPart(ctx, w.parts[k])
		if err != nil {
			return nil, fmt.Errorf("cannot flush %s/%d: %w", k.topic, k.partition, err)
		}
		files = append(files, fs...)
	}
	// Everything is durable: empty the buffers, and forget partitions that
	// were idle since the last flush so their memory is returned.
	for k, b := range w.parts {
		if b.msgs == 0 {
			delete(w.parts, k)
			continue
		}
		b.reset()
	}
	var rows, bytes int64
	for _, f := range files {
		rows += f.Rows
		bytes += f.Bytes
	}
	w.buffered.Store(0)
	w.enc.flushed(files)
	w.stats.Flushes++
	w.stats.Files += int64(len(files))
	w.stats.Rows += rows
	w.stats.Bytes += bytes
	if len(files) > 0 {
		w.log.Debug("flushed", "files", len(files), "rows", rows, "bytes", bytes, "duration", time.Since(start))
	}
	return files, nil
}

// flushPart writes one file per hour of b's rows.
func (w *Writer) flushPart(ctx context.Context, b *partBuffer) ([]File, error) {
	if len(b.rows) == 0 {
		return nil, nil
	}
	// Sort by (hour, device, metric, keys, ts), ties in arrival order: the
	// order, and so the file, depends only on the messages added. Each row's
	// (hour, series) is first reduced to one integer, the rank of its hour
	// times 2^32 plus the rank of its series, so the sort compares three
	// integers in one slice.
	ranks := b.ranks()
	rows := b.rows
	keys := slices.Grow(w.keys[:0], len(rows))[:len(rows)]
	w.keys = keys
	if w.series == nil {
		w.series = make(map[[3]uint32]uint32)
	}
	clear(w.series)
	var series [][3]uint32
	for i := range rows {
		r := &rows[i]
		k := [3]uint32{ranks[r.device], ranks[r.metric], ranks[r.keys]}
		id, ok := w.series[k]
		if !ok {
			id = uint32(len(series))
			series = append(series, k)
			w.series[k] = id
		}
		keys[i] = sortKey{hs: uint64(id), ts: r.ts, idx: uint32(i)}
	}
	seriesRank := sortedRanks(series, func(a, b [3]uint32) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]), cmp.Compare(a[2], b[2]))
	})
	hours := slices.Sorted(maps.Keys(b.hours))
	for i := range keys {
		k := &keys[i]
		h, _ := slices.BinarySearch(hours, intmath.FloorDiv(k.ts, hourNanos))
		k.hs = uint64(h)<<32 | uint64(seriesRank[k.hs])
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		switch {
		case a.hs != b.hs:
			return cmp.Compare(a.hs, b.hs)
		case a.ts != b.ts:
			return cmp.Compare(a.ts, b.ts)
		}
		return cmp.Compare(a.idx, b.idx)
	})
	w.order = slices.Grow(w.order[:0], len(keys))[:len(keys)]
	for i := range keys {
		w.order[i] = keys[i].idx
	}
	var files []File
	for start := 0; start < len(w.order); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h := hours[keys[start].hs>>32]
		end := start + 1
		for end < len(keys) && keys[end].hs>>32 == keys[start].hs>>32 {
			end++
		}
		hr := b.hours[h]
		hour := time.Unix(h*3600, 0).UTC()
		f := File{
			Topic:       b.topic,
			Partition:   b.partition,
			FirstOffset: hr.first,
			LastOffset:  hr.last,
			Rows:        int64(end - start),
			Hour:        hour,
		}
		if ms, _ := b.stampAt(hr.first); ms > 0 {
			f.FirstTime = time.UnixMilli(ms).UTC()
		}
		f.Path = filepath.Join(w.cfg.Root, w.cfg.Table,
			"dt="+hour.Format("2006-01-02"), "hour="+hour.Format("15"), dataName(b.topic, b.partition, hr.first, hr.last))
		n, err := w.enc.writeFile(f, w.from[partKey{b.topic, b.partition}], b.stampAt, rows, w.order[start:end], b.strs)
		for _, rf := range w.enc.removed {
			if rf.unflushed {
				continue // a failed flush's file, written again by its retry: nothing was re-delivered
			}
			w.stats.Replaced++
			if rf.own {
				w.stats.OwnReplaced++
				w.stats.OwnReplacedRows += rf.rows
			}
			w.log.Info("removed a file of an uncommitted earlier flush that the re-delivered offsets overlap",
				"removed", rf.path, "by", f.Path, "rows", rf.rows)
		}
		w.enc.removed = w.enc.removed[:0]
		for _, kept := range w.enc.kept {
			if !w.enc.firstWarning(kept) {
				continue
			}
			w.log.Warn("kept a file that the offsets being written overlap: it starts before the offsets this partition was read from "+
				"(its group's offsets went back, e.g. a reset or expired offsets after retention deleted the topic's head), "+
				"so its earlier rows cannot be written again; rows of the overlapping offsets are in two files",
				"kept", kept, "by", f.Path)
		}
		w.enc.kept = w.enc.kept[:0]
		for _, a := range w.enc.aside {
			w.log.Warn("kept a file that the offsets being written overlap under a new name: its first message is not one "+
				"this flush re-reads (another Kafka timestamp at that offset, or none), so it holds other messages: "+
				"the topic was deleted and recreated since, or another member wrote it after losing the partition",
				"kept", a.to, "was", a.from, "by", f.Path)
		}
		w.enc.aside = w.enc.aside[:0]
		if w.enc.stale > 0 {
			w.log.Info("removed temporary files a crashed flush of this partition left", "topic", f.Topic, "partition", f.Partition,
				"dt", hour.Format("2006-01-02"), "hour", hour.Format("15"), "removed", w.enc.stale)
			w.enc.stale = 0
		}
		for _, st := range w.enc.unremoved {
			if !w.enc.firstWarning(st.path) {
				continue
			}
			w.log.Warn("cannot remove a temporary file a crashed flush of this partition left; writing goes on, "+
				"readers skip it and it holds no row that is not written again: remove it by hand",
				"path", st.path, "err", st.err)
		}
		w.enc.unremoved = w.enc.unremoved[:0]
		if err != nil {
			return nil, err
		}
		f.Bytes = n
		w.log.Debug("wrote file", "path", f.Path, "rows", f.Rows, "bytes", f.Bytes)
		files = append(files, f)
		start = end
	}
	return files, nil
}

// maxNameBytes is the longest file name file systems take (NAME_MAX).
const maxNameBytes = 255

// dataName is the name of the file of a partition's offsets first to last.
func dataName(topic string, partition int32, first, last int64) string {
	return fmt.Sprintf("%s-%d-%012d-%012d.parquet", topic, partition, first, last)
}

// tempName is the prefix of the temporary name of the file name, to which
// os.CreateTemp appends "-" and random digits.
func tempName(name string) string { return ".tmp-" + name }

// sortKey is a row's position in a file: 24 bytes per row during Flush.
type sortKey struct {
	hs  uint64 // rank of the hour << 32 | rank of the series
	ts  int64
	idx uint32 // arrival order
}

// Bits of row.valid.
const (
	validU64 = 1 << iota
	validF64
	validStr
)

// row is one buffered sample: 48 bytes, strings interned per partition.
type row struct {
	ts                                int64
	u64                               uint64
	f64                               float64
	device, metric, keys, source, str uint32
	kind                              uint8
	valid                             uint8
}

// partBuffer holds the rows of one Kafka partition since the last flush.
type partBuffer struct {
	topic       string
	partition   int32
	first, last int64 // offsets of the first and last message added
	msgs        int   // messages added, including empty ones
	// stamps is the Kafka timestamp and first row of each message added,
	// by increasing offset: 24 bytes per message.
	stamps []msgStamp

	rows  []row
	strs  []string          // interned strings; a row's string fields index it
	ids   map[string]uint32 // inverse of strs
	hours map[int64]*hourRange
}

// msgStamp is the Kafka timestamp of the message at offset, in Unix
// milliseconds (0 when unknown), and the index of its first row in rows.
type msgStamp struct {
	offset, ms int64
	row        int
}

// unixMilli returns t in Unix milliseconds, 0 for the zero time and for the
// times before 1970 that stand for "none" (Kafka's -1).
func unixMilli(t time.Time) int64 {
	if t.IsZero() || t.UnixMilli() <= 0 {
		return 0
	}
	return t.UnixMilli()
}

// stampAt returns the Kafka timestamp (Unix ms) of b's message at offset,
// 0 when it is unknown, and whether b holds a message at offset.
func (b *partBuffer) stampAt(offset int64) (ms int64, held bool) {
	i, ok := slices.BinarySearchFunc(b.stamps, offset, func(m msgStamp, off int64) int { return cmp.Compare(m.offset, off) })
	if !ok {
		return 0, false
	}
	return b.stamps[i].ms, true
}

// hourRange is the offset range of the messages with rows in one hour.
type hourRange struct {
	first, last int64
	rows        int
}

func newPartBuffer(topic string, partition int32) *partBuffer {
	return &partBuffer{
		topic:     topic,
		partition: partition,
		ids:       make(map[string]uint32),
		hours:     make(map[int64]*hourRange),
	}
}

func (b *partBuffer) reset() {
	b.first, b.last, b.msgs = 0, 0, 0
	b.rows = b.rows[:0]
	b.stamps = b.stamps[:0]
	clear(b.strs)
	b.strs = b.strs[:0]
	clear(b.ids)
	clear(b.hours)
}

// intern returns the id of s, copying s the first time it is seen.
func (b *partBuffer) intern(s string) uint32 {
	if id, ok := b.ids[s]; ok {
		return id
	}
	s = strings.Clone(s)
	id := uint32(len(b.strs))
	b.strs = append(b.strs, s)
	b.ids[s] = id
	return id
}

// translate interns every entry of dict and returns their ids, appended to
// dst.
func (b *partBuffer) translate(dict *array.String, dst []uint32) []uint32 {
	for i := range dict.Len() {
		dst = append(dst, b.intern(dict.Value(i)))
	}
	return dst
}

func (b *partBuffer) hour(h, offset int64) *hourRange {
	hr := b.hours[h]
	if hr == nil {
		hr = &hourRange{first: offset}
		b.hours[h] = hr
	}
	return hr
}

// ranks returns, for each interned id, the rank of its string in byte order.
func (b *partBuffer) ranks() []uint32 {
	return sortedRanks(b.strs, strings.Compare)
}

// sortedRanks returns, for each element of s, its rank in the order of cmp.
func sortedRanks[T any](s []T, cmp func(a, b T) int) []uint32 {
	byValue := make([]uint32, len(s))
	for i := range byValue {
		byValue[i] = uint32(i)
	}
	slices.SortFunc(byValue, func(i, j uint32) int { return cmp(s[i], s[j]) })
	ranks := make([]uint32, len(s))
	for r, i := range byValue {
		ranks[i] = uint32(r)
	}
	return ranks
}
