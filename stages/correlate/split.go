package correlate

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// An incident keeps every member detection while it lasts (a link
// flapping for weeks, never quiet long enough to close), so its gzipped
// state, one changelog record, can outgrow what the broker takes in one
// record (message.max.bytes, 1 MB by default; 20 000 members are about
// 128 KB). Such a record failed the transaction at every checkpoint, and
// the stage stopped. A state larger than partMax is written in parts
// instead: parts 1…k−1 under keys of their own (partKey), then the head
// under the incident's key, holding the generation, the number of parts
// and part 0. Each write of a split state is a new generation, and the
// previous generation's parts are deleted after the head that replaces
// them: a compacted changelog that lost a head's parts lost the head too,
// so a head read on restore always finds its parts before it.

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
// head that follows it, and reports whether key was a part's.
func (p *part) restorePart(key string, value []byte) bool {
	if !strings.Contains(key, partInfix) {
		return false
	}
	if value == nil {
		delete(p.pending, key)
	} else {
		p.pending[key] = value
	}
	return true
}

// join returns the whole gzipped state of the record (key, value) read
// from the changelog: value itself, or, for a head, its parts joined.
func (p *part) join(key string, value []byte) ([]byte, error) {
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
	whole := append([]byte(nil), rest[a+b:]...)
	for i := 1; i < int(parts); i++ {
		k := partKey(key, gen, i)
		v, ok := p.pending[k]
		if !ok {
			return nil, fmt.Errorf("%s: part %d of %d (generation %d) is not in the changelog before it", key, i, parts, gen)
		}
		whole = append(whole, v...)
		delete(p.pending, k)
	}
	p.split[key] = split{gen: gen, parts: int(parts)}
	return whole, nil
}
