package correlate

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/telekernel/telekernel/pipeline"
)

// An incident keeps every member detection while it lasts (a link
// flapping for weeks, never quiet long enough to close), so its gzipped
// state, one changelog record, can outgrow what the broker takes in one
// record (message.max.bytes, 1 MB by default, of the producer's batch;
// 20 000 members are 7.5 MB of JSON, 128 KB gzipped). Such a record would
// fail the transaction at every checkpoint, and the stage would stop. A
// state larger than partMax is written in parts instead: parts 1…k−1
// under keys of their own (partKey), then the head under the incident's
// key, holding the generation, the number of parts and part 0. Each write
// of a split state is a new generation, and the previous generation's
// parts are deleted after the head that replaces them: once compaction is
// done with a stretch of the changelog, a head it kept has its parts
// before it. While the cleaner is part way (a restore reading between the
// swaps of two groups of segments), an older head may have lost its
// parts; the record that replaced it is then still ahead, so such a head
// is only remembered as incomplete, and the stage stops (a changelog that
// is not one the stage wrote) only if no later record of its key came by
// the time it processes the partition (checkRestored).

// partMax is the most bytes of gzipped state one changelog record holds.
// A variable so that tests can split small states.
var partMax = 512 << 10

// splitMagic starts a head record. A whole record is gzip, which starts
// with 0x1f 0x8b.
const splitMagic = "tk-split\x01"

// partInfix separates a head's key from its parts' generation and index.
const partInfix = "/part/"

// split is how a key's state was last written in parts: its generation
// and number of parts.
type split struct {
	gen   uint64
	parts int
}

// partKey is the key of part i of key's state, generation gen.
func partKey(key string, gen uint64, i int) string {
	return key + partInfix + strconv.FormatUint(gen, 10) + "/" + strconv.Itoa(i)
}

// emitState emits the gzipped state v of key (nil: a tombstone) on
// partition n, in parts when it is larger than partMax, then deletes the
// parts of the key's previous split state.
func (p *part) emitState(n int32, key string, v []byte, emit func(partition int32, key, value []byte)) {
	prev, wasSplit := p.split[key]
	if len(v) > partMax {
		s := split{gen: prev.gen + 1, parts: (len(v) + partMax - 1) / partMax}
		for i := 1; i < s.parts; i++ {
			emit(n, []byte(partKey(key, s.gen, i)), v[i*partMax:min(len(v), (i+1)*partMax)])
		}
		head := binary.AppendUvarint(binary.AppendUvarint([]byte(splitMagic), s.gen), uint64(s.parts))
		emit(n, []byte(key), append(head, v[:partMax]...))
		p.split[key] = s
	} else {
		emit(n, []byte(key), v)
		delete(p.split, key)
	}
	if wasSplit {
		for i := 1; i < prev.parts; i++ {
			emit(n, []byte(partKey(key, prev.gen, i)), nil)
		}
	}
}

// restorePart keeps or forgets a part read from the changelog, for the
// head that follows it, and reports whether key is a part's
// (KEY/part/G/I, with G and I numbers).
func (p *part) restorePart(key string, value []byte) bool {
	head, rest, ok := strings.Cut(key, partInfix)
	g, i, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || head == "" || !isNumber(g) || !isNumber(i) {
		return false
	}
	if p.pending == nil {
		p.pending = map[string][]byte{}
	}
	if value == nil {
		delete(p.pending, key)
	} else {
		p.pending[key] = value
	}
	return true
}

// isNumber reports whether s is a decimal number.
func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// checkRestored reports a head whose parts never came (see above), once
// the partition's restore is over, and forgets the parts no head claimed.
func (p *part) checkRestored() error {
	if len(p.incomplete) > 0 {
		first := slices.Min(slices.Collect(maps.Keys(p.incomplete)))
		return fmt.Errorf("%w: cannot restore incident state: %s", pipeline.ErrStop, p.incomplete[first])
	}
	p.pending, p.incomplete = nil, nil
	return nil
}

// join returns the whole gzipped state of the record (key, value) read
// from the changelog: value itself (nil for a tombstone), or, for a head,
// its parts joined; nil for a head whose parts are not all there, which
// it notes as incomplete until a later record of key comes (see above).
func (p *part) join(key string, value []byte) ([]byte, error) {
	delete(p.incomplete, key)
	rest, ok := bytes.CutPrefix(value, []byte(splitMagic))
	if !ok {
		delete(p.split, key)
		return value, nil
	}
	gen, a := binary.Uvarint(rest)
	parts, b := binary.Uvarint(rest[max(a, 0):])
	if a <= 0 || b <= 0 || parts < 2 || parts > 1<<20 {
		return nil, fmt.Errorf("%s: malformed head of a state in parts", key)
	}
	whole := rest[a+b:]
	for i := 1; i < int(parts); i++ {
		if _, ok := p.pending[partKey(key, gen, i)]; !ok {
			if p.incomplete == nil {
				p.incomplete = map[string]string{}
			}
			p.incomplete[key] = fmt.Sprintf("%s: part %d of %d (generation %d) is not in the changelog before it, and no later record of %s is", key, i, parts, gen, key)
			return nil, nil
		}
	}
	whole = append(make([]byte, 0, len(whole)*int(parts)), whole...)
	for i := 1; i < int(parts); i++ {
		k := partKey(key, gen, i)
		whole = append(whole, p.pending[k]...)
		delete(p.pending, k)
	}
	p.split[key] = split{gen: gen, parts: int(parts)}
	return whole, nil
}
