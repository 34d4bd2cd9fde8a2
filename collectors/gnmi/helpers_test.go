package gnmi

import "google.golang.org/protobuf/proto"

func protoMarshal(m proto.Message) ([]byte, error) { return proto.Marshal(m) }

// resetDedup forgets the last timestamps, so a benchmark can replay
// responses.
func (d *Decoder) resetDedup() {
	for _, se := range d.canon {
		se.lastTS = sentinelTS
	}
}
