package gnmi

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	pb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// Drop reasons: every update that is not published is counted under one.
const (
	DropDuplicate   = "duplicate"      // (series, timestamp) already published
	DropBadValue    = "bad_value"      // value does not fit the metric's kind
	DropUnsupported = "unsupported"    // value type the collector does not map (any, proto_bytes, leaf-lists, JSON list entries of scalars only whose keys are not known)
	DropBadPath     = "bad_path"       // path that cannot be parsed, is empty or holds a NUL byte
	DropMalformed   = "malformed"      // update bytes that are not a valid gNMI Update
	DropBadTime     = "bad_timestamp"  // notification timestamp outside the accepted window around now
	dropReasonCount = 6                // number of reasons above
	maxSeries       = 1 << 20          // per stream; the cache starts over beyond it
	maxPSU          = 64               // power supplies whose input power one notification derives
	jsonSep         = byte(0)          // separates a JSON member path from the update path in cache keys
	nsPerMs         = int64(1e6)       // timestamp normalisation
	sentinelTS      = math.MinInt64    // no sample seen yet
	maxIntInFloat   = float64(1 << 53) // largest float64 that still holds every integer below it
)

var dropReasons = [dropReasonCount]string{DropDuplicate, DropBadValue, DropUnsupported, DropBadPath, DropMalformed, DropBadTime}

// TimestampMode says which time a sample carries.
type TimestampMode uint8

// Timestamp modes.
const (
	// TimestampDevice uses the notification's timestamp, normalised to
	// nanoseconds (devices that send seconds, milliseconds or microseconds
	// are recognised by magnitude).
	TimestampDevice TimestampMode = iota
	// TimestampReceive uses the time the collector received the response.
	// Repeated values are then not recognised as duplicates.
	TimestampReceive
)

// NormalizeTimestamp returns ts in nanoseconds since the epoch. The gNMI
// spec says nanoseconds, but some devices send milliseconds (or seconds or
// microseconds); they are told apart by magnitude, which is unambiguous for
// any date between 1973 and 2286.
func NormalizeTimestamp(ts int64) int64 {
	switch {
	case ts <= 0:
		return ts
	case ts < 1e11: // seconds
		return scaleNS(ts, 1e9)
	case ts < 1e14: // milliseconds
		return scaleNS(ts, nsPerMs)
	case ts < 1e17: // microseconds
		return scaleNS(ts, 1e3)
	}
	return ts
}

// scaleNS returns ts × unit, or math.MaxInt64 (after year 2262, beyond any
// window) where the product does not fit: a time in seconds from 9.3e9 on
// wrapped around to a time that could look valid.
func scaleNS(ts, unit int64) int64 {
	if ts > math.MaxInt64/unit {
		return math.MaxInt64
	}
	return ts * unit
}

// series is one leaf of one stream, as cached by its raw path bytes.
type series struct {
	metric, keys string
	info         leafInfo
	kind         schemas.Kind  // fixed by the first value when info.kind is 0
	lastTS       int64         // of the last published sample, for deduplication
	epoch        uint32        // the Decoder's epoch at lastTS (dedup.go)
	gen          uint32        // Batch generation of midx and kidx
	midx, kidx   int32         // dictionary indices in the current record
	nbr          *lldpNeighbor // an LLDP neighbour's leaf: whose (nil for the others)
	// alias is the vocabulary's series that the leaf's state values are
	// published under too (an ieee802-dot1ab-lldp neighbour's system-name
	// and port-id: lldp.go), nil for the others.
	alias *series
}

// DecoderStats counts what a Decoder did. Plain counters: read them from the
// goroutine that owns the Decoder.
type DecoderStats struct {
	Responses uint64 // SubscribeResponses decoded
	Updates   uint64 // leaf values seen (an update holding a JSON object counts each leaf)
	Samples   uint64 // samples appended to the builder
	Deletes   uint64 // deleted paths
	Syncs     uint64 // sync_responses
	Dropped   [dropReasonCount]uint64
	// Repaired counts string values published after replacing invalid
	// UTF-8. (A path with invalid UTF-8 is dropped as bad_path: protobuf
	// refuses to parse it.)
	Repaired uint64
	// CacheResets counts the times the series caches passed their limit
	// and started over.
	CacheResets uint64
	// LLDPAged counts the LLDP neighbours aged out: not sampled for a hold
	// time, with no delete (lldp.go).
	LLDPAged uint64
	// ClockSteps counts the times the device's clock was seen to step
	// back (see "Clock steps" in dedup.go).
	ClockSteps uint64
	// ClockOffset is the device's clock less the collector's, in ns: the
	// timestamp of the latest notification that moved the device's clock
	// on (or stepped it back) less the time it was received; 0 with
	// TimestampReceive. A device whose clock is hours off (a time zone
	// taken for UTC, no NTP) moves the event-time clocks of the stages
	// its samples reach: they judge a partition by its newest sample.
	ClockOffset int64
}

// Dropped returns the count of updates dropped for reason.
func (s *DecoderStats) DroppedFor(reason string) uint64 {
	for i, r := range dropReasons {
		if r == reason {
			return s.Dropped[i]
		}
	}
	return 0
}

// Result tells what one SubscribeResponse held.
type Result struct {
	Sync    bool // a sync_response: the initial snapshot is complete
	Samples int  // samples appended
}

// ErrResponse wraps the deprecated in-band error of a SubscribeResponse.
var ErrResponse = errors.New("target sent an error response")

// Decoder turns gNMI SubscribeResponses of one target into samples appended
// to a publish.Batch, straight from the protobuf wire bytes: no
// message tree is built, and a leaf's metric name and keys are worked out
// once and cached by its raw path bytes, so steady-state decoding does not
// allocate. It is not safe for concurrent use: give each stream its own.
type Decoder struct {
	b      *publish.Batch
	s      schemas.Sample
	tsMode TimestampMode
	dedup  bool

	cache  map[string]*series // raw prefix+path bytes -> series
	canon  map[string]*series // metric \x00 keys -> series
	key    []byte
	derive bool

	cacheBytes, maxCache int // estimated size of the caches, and its limit

	// listKeys holds the key names the device sent per list (json.go's
	// learnKeys), listKeysBytes their estimated size; listBuf is scratch
	// for their lookups.
	listKeys      map[string][]string
	listKeysBytes int
	listBuf       []byte
	// jsonBases holds the parsed paths of JSON values holding a list, by
	// their raw bytes (json.go's jsonBaseOf); part of the caches.
	jsonBases map[string]*jsonBase

	// past and future bound a device timestamp around the receive time
	// (0: no bound).
	past, future int64

	// full, when set, is called after a sample is appended and the batch
	// holds maxRows rows or about maxBytes encoded bytes: the caller
	// produces the batch, so a notification of any size is cut into
	// batches while it is decoded.
	full              func()
	maxRows, maxBytes int

	// lldp holds the LLDP neighbours seen per local port, lldpAge what
	// ages them out (lldp.go).
	lldp    map[string]*lldpPort
	lldpAge lldpAging

	// per notification
	psu       []psuReading
	lldpDirty []*lldpPort         // ports whose neighbours changed
	lldpWhos  map[string]struct{} // scratch of countLLDP
	lldpSeen  bool                // an LLDP neighbour's leaf came
	badTS     bool
	behind    bool // more than minClockStep behind clock
	stats     DecoderStats
	lastBadTS int64 // the last device timestamp outside [past, future]
	// example is, per drop reason, the metric of the latest value dropped
	// for it where the series was known ("" else).
	example [dropReasonCount]string

	// clock is the latest timestamp of a notification that published a
	// sample (sentinelTS before); epoch counts the device's clock steps
	// back, the last at epochStart, by lastStep ns (dedup.go).
	clock, epochStart, lastStep int64
	epoch                       uint32
}

// NewDecoder returns a decoder appending samples to b, whose device and
// source the samples get, configured by cfg (with its defaults applied),
// or an error naming the first bad field of cfg.
func NewDecoder(b *publish.Batch, cfg DecoderConfig) (*Decoder, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cannot build decoder: %w", err)
	}
	return &Decoder{b: b, tsMode: cfg.Timestamp, dedup: *cfg.Dedup, derive: *cfg.DerivePower,
		cache: map[string]*series{}, canon: map[string]*series{}, maxCache: cfg.MaxCacheBytes,
		past: int64(cfg.MaxPast), future: int64(cfg.MaxFuture),
		full: cfg.Full, maxRows: cfg.MaxRows, maxBytes: cfg.MaxBatchBytes,
		lldpAge: newLLDPAging(int64(cfg.ResendInterval)), clock: sentinelTS}, nil
}

// Stats returns the counters so far.
func (d *Decoder) Stats() DecoderStats { return d.stats }

// Decode decodes one SubscribeResponse in protobuf wire form. recvNS is the
// receive time, used in TimestampReceive mode. raw is not retained. An
// error means the response as a whole could not be read (or was the
// deprecated in-band error); problems with single updates are counted in
// Stats and do not stop the rest.
func (d *Decoder) Decode(raw []byte, recvNS int64) (Result, error) {
	var res Result
	d.stats.Responses++
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return res, fmt.Errorf("cannot decode SubscribeResponse: %w", protowire.ParseError(n))
		}
		raw = raw[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(raw)
			if n < 0 {
				return res, fmt.Errorf("cannot decode notification: %w", protowire.ParseError(n))
			}
			raw = raw[n:]
			k, err := d.notification(v, recvNS)
			res.Samples += k
			if err != nil {
				return res, err
			}
		case num == 3 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(raw)
			if n < 0 {
				return res, fmt.Errorf("cannot decode sync_response: %w", protowire.ParseError(n))
			}
			raw = raw[n:]
			if v != 0 {
				res.Sync = true
				d.stats.Syncs++
			}
		case num == 4 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(raw)
			if n < 0 {
				return res, fmt.Errorf("cannot decode error: %w", protowire.ParseError(n))
			}
			//lint:ignore SA1019 deprecated, but older targets still send it
			var e pb.Error
			if err := proto.Unmarshal(v, &e); err != nil {
				return res, fmt.Errorf("cannot decode error: %w", err)
			}
			return res, fmt.Errorf("%w: code %d: %s", ErrResponse, e.GetCode(), e.GetMessage())
		default:
			n := protowire.ConsumeFieldValue(num, typ, raw)
			if n < 0 {
				return res, fmt.Errorf("cannot decode SubscribeResponse: %w", protowire.ParseError(n))
			}
			raw = raw[n:]
		}
	}
	return res, nil
}

// DecodeResponse decodes a SubscribeResponse message; it marshals it first,
// so it is for tests and tools, not the hot path.
func (d *Decoder) DecodeResponse(r *pb.SubscribeResponse, recvNS int64) (Result, error) {
	raw, err := proto.Marshal(r)
	if err != nil {
		return Result{}, err
	}
	return d.Decode(raw, recvNS)
}

func (d *Decoder) notification(raw []byte, recvNS int64) (int, error) {
	// First pass: timestamp and prefix, which may come after the updates.
	var ts int64
	var prefix []byte
	for b := raw; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, fmt.Errorf("cannot decode notification: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, fmt.Errorf("cannot decode timestamp: %w", protowire.ParseError(n))
			}
			ts, b = int64(v), b[n:]
			continue
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, fmt.Errorf("cannot decode prefix: %w", protowire.ParseError(n))
			}
			prefix, b = v, b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, fmt.Errorf("cannot decode notification: %w", protowire.ParseError(n))
		}
		b = b[n:]
	}
	d.badTS = false
	if d.tsMode == TimestampReceive {
		ts = recvNS
	} else {
		ts = NormalizeTimestamp(ts)
		d.badTS = (d.past > 0 && ts < recvNS-d.past) || (d.future > 0 && ts > recvNS+d.future)
		if d.badTS {
			d.lastBadTS = ts
		}
	}
	d.behind = d.clock != sentinelTS && ts < d.clock-minClockStep
	d.psu, d.lldpDirty, d.lldpSeen = d.psu[:0], d.lldpDirty[:0], false
	samples := 0
	for b := raw; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		b = b[n:]
		if typ != protowire.BytesType || (num != 4 && num != 5) {
			b = b[protowire.ConsumeFieldValue(num, typ, b):]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		b = b[n:]
		if num == 4 {
			samples += d.update(prefix, v, ts)
		} else {
			d.delete(prefix, v)
		}
	}
	samples += d.derivePSU(ts)
	if d.lldpSeen {
		d.lldpAge.lag = max(d.clock, ts) - ts
		d.ageLLDP(ts)
	} else if len(d.lldp) > 0 && d.lldpAge.resend > 0 && !d.badTS {
		d.ageIdle(ts, d.clock)
	}
	if len(d.lldpDirty) > 0 {
		samples += d.countLLDP(ts)
	}
	if samples > 0 && ts >= d.clock {
		d.clock = ts // also after a step back, which set it to ts
		d.stats.ClockOffset = ts - recvNS
	}
	return samples, nil
}

func (d *Decoder) drop(reason int) { d.stats.Dropped[reason]++ }

// dropFor is drop for a value of se, whose metric becomes the reason's
// latest example (the stream's warning names it).
func (d *Decoder) dropFor(reason int, se *series) {
	d.stats.Dropped[reason]++
	d.example[reason] = se.metric
}

const (
	dropDup = iota
	dropBadValue
	dropUnsupported
	dropBadPath
	dropMalformed
	dropBadTime
)

// update decodes one Update and returns the number of samples appended.
func (d *Decoder) update(prefix, raw []byte, ts int64) int {
	var path, val, legacy []byte
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			d.stats.Updates++
			d.drop(dropMalformed)
			return 0
		}
		raw = raw[n:]
		if typ == protowire.BytesType && num <= 3 {
			v, n := protowire.ConsumeBytes(raw)
			if n < 0 {
				d.stats.Updates++
				d.drop(dropMalformed)
				return 0
			}
			raw = raw[n:]
			switch num {
			case 1:
				path = v
			case 2:
				legacy = v
			case 3:
				val = v
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, raw)
		if n < 0 {
			d.stats.Updates++
			d.drop(dropMalformed)
			return 0
		}
		raw = raw[n:]
	}
	d.key = protowire.AppendVarint(d.key[:0], uint64(len(prefix)))
	d.key = append(d.key, prefix...)
	d.key = append(d.key, path...)
	if val == nil && legacy != nil {
		return d.legacyValue(prefix, path, legacy, ts)
	}
	// A JSON object or array is a subtree: flatten it into leaves.
	if j, ok := jsonValue(val); ok && len(j) > 0 && (j[0] == '{' || j[0] == '[') {
		return d.jsonTree(prefix, path, j, ts)
	}
	d.stats.Updates++
	se := d.lookup(prefix, path, nil)
	if se == nil {
		return 0
	}
	return d.appendValue(se, val, ts)
}

// lookup returns the series of the leaf whose cache key is in d.key,
// working it out on a miss. sub is the member path inside a JSON value.
func (d *Decoder) lookup(prefix, path []byte, sub []string) *series {
	if se, ok := d.cache[string(d.key)]; ok {
		return se
	}
	d.trimCaches()
	se, err := d.newSeries(prefix, path, sub)
	if err != nil {
		d.drop(dropBadPath)
		return nil
	}
	if len(d.cache) >= maxSeries {
		clear(d.cache)
	}
	d.cache[string(d.key)] = se
	d.cacheBytes += len(d.key) + cacheEntryBytes
	return se
}

func (d *Decoder) newSeries(prefix, path []byte, sub []string) (*series, error) {
	var pp, p pb.Path
	if err := proto.Unmarshal(prefix, &pp); err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(path, &p); err != nil {
		return nil, err
	}
	origin, elems, err := pathOf(&pp, &p)
	if err != nil {
		return nil, err
	}
	d.learnKeys(origin, elems)
	for _, s := range sub {
		elems = append(elems, parseJSONMember(s))
	}
	metric, keys, err := canonical(origin, elems)
	if err != nil {
		return nil, err
	}
	if strings.IndexByte(metric, 0) >= 0 {
		// The stages drop it (schemas.DropBadName): a NUL ends a name in
		// their changelog keys.
		return nil, errors.New("path holds a NUL byte")
	}
	ck := metric + "\x00" + keys
	if se, ok := d.canon[ck]; ok {
		return se, nil
	}
	if len(d.canon) >= maxSeries {
		clear(d.canon)
	}
	d.cacheBytes += 2*len(ck) + seriesEntryBytes
	info := classify(metric)
	se := &series{metric: metric, keys: keys, info: info, kind: info.kind, lastTS: sentinelTS}
	if info.lldp {
		if se.nbr = newLLDPNeighbor(metric, keys); se.nbr != nil {
			if se.alias = lldpAlias(metric, se.nbr); se.alias != nil {
				d.cacheBytes += len(se.alias.keys) + seriesEntryBytes
			}
		}
	}
	d.canon[ck] = se
	return se, nil
}

// parseJSONMember turns a flattened JSON member ("interface\x01name=Eth1")
// back into a path element.
func parseJSONMember(s string) elem {
	parts := strings.Split(s, "\x01")
	e := elem{name: stripModule(parts[0])}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		e.keys = append(e.keys, kv{k, v})
	}
	return e
}

// emit appends the sample in d.s for se, deduplicating.
func (d *Decoder) emit(se *series, ts int64) int {
	if d.badTS {
		d.drop(dropBadTime)
		return 0
	}
	if se.nbr != nil {
		v := ""
		if se.kind == schemas.KindState {
			v = d.s.Str
		}
		d.noteLLDP(se.nbr, ts, v)
	}
	if d.dedup {
		if ts <= se.lastTS && d.duplicate(se, ts) {
			d.drop(dropDup)
			return 0
		}
		se.lastTS, se.epoch = ts, d.epoch
	}
	if g := d.b.Gen(); se.gen != g {
		se.midx, se.kidx, se.gen = d.b.MetricIndex(se.metric), d.b.KeysIndex(se.keys), g
	}
	switch se.kind {
	case schemas.KindCounter:
		d.b.AppendCounter(ts, se.midx, se.kidx, d.s.U64)
	case schemas.KindGauge:
		d.b.AppendGauge(ts, se.midx, se.kidx, d.s.F64)
		if se.info.float32 && d.derive {
			d.notePSU(se, d.s.F64)
		}
	default:
		d.b.AppendState(ts, se.midx, se.kidx, d.s.Str)
	}
	d.stats.Samples++
	if d.full != nil && (d.b.Len() >= d.maxRows || d.b.Size() >= d.maxBytes) {
		d.full()
	}
	if se.alias != nil {
		return 1 + d.emit(se.alias, ts) // a state, as knownLeaves fixes the leaves it is made for
	}
	return 1
}

// appendValue decodes a TypedValue and appends it as a sample of se.
func (d *Decoder) appendValue(se *series, raw []byte, ts int64) int {
	var sc scalar
	if !parseTypedValue(raw, &sc) {
		d.dropFor(dropMalformed, se)
		return 0
	}
	if sc.typ == scUnsupported || sc.typ == scNone {
		d.dropFor(dropUnsupported, se)
		return 0
	}
	if sc.typ == scString && sc.json {
		// A JSON_IETF scalar inside a TypedValue: parse it.
		js := sc.s
		sc = scalar{}
		if !parseJSONScalar(js, &sc) {
			d.dropFor(dropBadValue, se)
			return 0
		}
	}
	return d.appendScalar(se, &sc, ts)
}

func (d *Decoder) appendScalar(se *series, sc *scalar, ts int64) int {
	if se.kind == 0 {
		se.kind = kindOf(sc, se.info.counting)
	}
	if !fit(se, sc, &d.s) {
		d.dropFor(dropBadValue, se)
		return 0
	}
	if se.kind == schemas.KindState && !utf8.ValidString(d.s.Str) {
		d.s.Str = strings.ToValidUTF8(d.s.Str, "\uFFFD")
		n := d.emit(se, ts)
		d.stats.Repaired += uint64(n)
		return n
	}
	return d.emit(se, ts)
}

// legacyValue handles the deprecated Update.value (Value{bytes, Encoding}).
func (d *Decoder) legacyValue(prefix, path, raw []byte, ts int64) int {
	var val []byte
	var enc uint64
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			d.drop(dropMalformed)
			return 0
		}
		raw = raw[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			val, n = protowire.ConsumeBytes(raw)
		case num == 2 && typ == protowire.VarintType:
			enc, n = protowire.ConsumeVarint(raw)
		default:
			n = protowire.ConsumeFieldValue(num, typ, raw)
		}
		if n < 0 {
			d.drop(dropMalformed)
			return 0
		}
		raw = raw[n:]
	}
	switch pb.Encoding(enc) {
	case pb.Encoding_JSON, pb.Encoding_JSON_IETF:
		val = trimSpace(val)
		if len(val) > 0 && (val[0] == '{' || val[0] == '[') {
			return d.jsonTree(prefix, path, val, ts)
		}
		d.stats.Updates++
		se := d.lookup(prefix, path, nil)
		if se == nil {
			return 0
		}
		var sc scalar
		if !parseJSONScalar(val, &sc) {
			d.drop(dropBadValue)
			return 0
		}
		return d.appendScalar(se, &sc, ts)
	case pb.Encoding_ASCII:
		d.stats.Updates++
		se := d.lookup(prefix, path, nil)
		if se == nil {
			return 0
		}
		return d.appendScalar(se, &scalar{typ: scString, s: val}, ts)
	}
	d.stats.Updates++
	d.drop(dropUnsupported)
	return 0
}

// delete forgets the series under a deleted path, so a list entry that
// comes back later starts afresh and the caches do not keep what the
// device no longer has. The path may name only some keys of a list
// entry (keyMatch). It teaches no list its keys (learnKeys): a key it
// leaves out is a wildcard, not a key the list lacks.
func (d *Decoder) delete(prefix, raw []byte) {
	d.stats.Deletes++
	var pp, p pb.Path
	if proto.Unmarshal(prefix, &pp) != nil || proto.Unmarshal(raw, &p) != nil {
		return
	}
	origin, elems, err := pathOf(&pp, &p)
	if err != nil {
		return
	}
	metric, _, err := canonical(origin, elems)
	if err != nil {
		return
	}
	m := newKeyMatch(origin, elems)
	if len(d.lldp) > 0 && strings.HasPrefix(metric, "/lldp") {
		d.deleteLLDP(metric, m.within)
	}
	d.forget(metric, m.within)
}

// forget drops from the caches the series at or under metric whose
// metric and canonical keys within accepts, and their estimated size. It
// scans both caches once: for deletes and aged-out LLDP neighbours, not
// per update.
func (d *Decoder) forget(metric string, within func(metric, keys string) bool) {
	gone := map[*series]bool{}
	under := metric + "/"
	for ck, se := range d.canon {
		if (se.metric == metric || strings.HasPrefix(se.metric, under)) && within(se.metric, se.keys) {
			gone[se] = true
			delete(d.canon, ck)
			d.cacheBytes -= 2*len(ck) + seriesEntryBytes
			if se.alias != nil {
				d.cacheBytes -= len(se.alias.keys) + seriesEntryBytes
			}
		}
	}
	if len(gone) == 0 {
		return
	}
	for k, se := range d.cache {
		if gone[se] {
			delete(d.cache, k)
			d.cacheBytes -= len(k) + cacheEntryBytes
		}
	}
}

// keysWithin reports whether the canonical keys have the canonical keys
// of a path naming every key of its lists (a neighbour's entry) as a
// prefix: whether they are that entry's or an entry's under it.
func keysWithin(keys, deleted string) bool {
	return deleted == "" || keys == deleted || strings.HasPrefix(keys, deleted+",")
}

// keyMatch tells which series a deleted path's keys match. A key the
// path leaves out of a list entry is a wildcard, as in gNMI paths:
// /lldp/port[name=eth0] is the port's entries of every LLDP agent
// ([dest-mac-address] left out), /interfaces/interface/subinterfaces/
// subinterface[index=0] subinterface 0 of every interface. So each key
// the path names is looked up in a series' canonical keys by its name,
// qualified as canonicalKeys qualifies it there (protocol[name=bgp] is
// "protocol.name=bgp" under network-instance[name], "name=bgp" alone):
// the path's own canonical keys, a prefix of those of the series under
// it when it names every key, are not one when it leaves a key out, and
// may be one of another entry's ("name=bgp" of network-instance[name=bgp]).
// A list nested in one of the same element and key names
// (group[name]/groups/group[name]) writes "group.name" for each but the
// first: which is the path's is told by the place among them (keyWant.in).
type keyMatch struct {
	want []keyWant // the path's keys; nil when it names none
}

// keyWant is one key a deleted path names, as canonicalKeys writes it:
// the key's name, its value, and its name qualified by its list's element
// ("protocol.name"). qualified is set when an earlier element of the path
// has a key of that name: the series' keys then have only the qualified
// one. elem is the list's element name, at the length of the metric up to
// and including it.
type keyWant struct {
	name, value, qual, elem string
	at                      int
	qualified               bool
}

func newKeyMatch(origin string, elems []elem) keyMatch {
	var m keyMatch
	at := 0
	if keptOrigin(origin) {
		at = len(origin) + 1
	}
	for i, e := range elems {
		at += 1 + len(stripModule(e.name))
		for _, p := range e.keys {
			var b strings.Builder
			escapeKey(&b, withoutModule(p.v))
			name := stripModule(p.k)
			qualified := slices.ContainsFunc(elems[:i], func(e elem) bool {
				return slices.ContainsFunc(e.keys, func(p kv) bool { return stripModule(p.k) == name })
			})
			m.want = append(m.want, keyWant{name: name, value: b.String(), qual: stripModule(e.name) + "." + name,
				elem: stripModule(e.name), at: at, qualified: qualified})
		}
	}
	return m
}

// within reports whether a series of metric and canonical keys at or
// under the deleted path is one it names.
func (m *keyMatch) within(metric, keys string) bool {
	if m.want == nil {
		return true
	}
	for i := range m.want {
		if !m.want[i].in(metric, keys) {
			return false
		}
	}
	return true
}

// in reports whether the canonical keys of a series of metric hold w's
// key with w's value: the key qualified by w's element ("protocol.name")
// when they have it, else the one of w's name, which is the first
// element's of that key name. Lists of w's element name below w's in the
// metric (group[name]/groups/group[name]) write theirs qualified alike,
// after w's: w's is the last qualified one before theirs, or the
// unqualified one when there are no more qualified ones than they (w's
// element the first of that key name).
func (w *keyWant) in(metric, keys string) bool {
	q, first := 0, ""        // qualified ones, the first's value
	unq, hasUnq := "", false // the unqualified one
	for s := keys; ; {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		name, rest := s[:eq], s[eq+1:]
		end := valueEnd(rest)
		if name == w.qual {
			if q == 0 {
				first = rest[:end]
			}
			q++
		} else if name == w.name {
			unq, hasUnq = rest[:end], true
		}
		if end == len(rest) {
			break
		}
		s = rest[end+1:]
	}
	i := q - 1
	if q > 0 && w.at < len(metric) {
		i -= elemsNamed(metric[w.at:], w.elem)
	}
	switch {
	case i >= 0:
		return nthValue(keys, w.qual, i) == w.value
	case i == -1 && !w.qualified:
		return hasUnq && unq == w.value
	case q > 0: // fewer qualified keys than lists below: not lists of that key
		return first == w.value
	}
	return false
}

// elemsNamed returns the number of elements named name in metric's path
// s, its last element (the leaf) left out.
func elemsNamed(s, name string) int {
	n := 0
	for {
		i := strings.Index(s, name)
		if i < 0 {
			return n
		}
		if i > 0 && s[i-1] == '/' && i+len(name) < len(s) && s[i+len(name)] == '/' {
			n++
		}
		s = s[i+len(name):]
	}
}

// nthValue returns the value of the i-th key named name in the canonical
// keys.
func nthValue(keys, name string, i int) string {
	for {
		eq := strings.IndexByte(keys, '=')
		if eq < 0 {
			return ""
		}
		n, rest := keys[:eq], keys[eq+1:]
		end := valueEnd(rest)
		if n == name {
			if i == 0 {
				return rest[:end]
			}
			i--
		}
		if end == len(rest) {
			return ""
		}
		keys = rest[end+1:]
	}
}

// valueEnd returns the end of the escaped key value s starts with: the
// index of its first comma not escaped, else len(s).
func valueEnd(s string) int {
	for i := 0; ; i++ {
		j := strings.IndexByte(s[i:], ',')
		if j < 0 {
			return len(s)
		}
		i += j
		n := 0 // backslashes before it: an odd number escapes it
		for k := i - 1; k >= 0 && s[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return i
		}
	}
}
