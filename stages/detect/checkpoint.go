package detect

import (
	"sync"

	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// ckptItem is one changelog record of a checkpoint: a series' or a
// multivariate group's, encoded by encode (on a worker, for a large
// checkpoint) and emitted in the order the items were listed.
type ckptItem struct {
	p          int32
	k          schemas.SeriesKey
	st         *seriesState // nil for a group
	g          *groupState
	key, value []byte
}

// encode encodes the item's key and value, the series' cut from sl.
func (it *ckptItem) encode(sl *slab) {
	if it.st == nil {
		it.key, it.value = pipeline.StateKey(nil, it.k), appendGroupState(nil, it.g)
		return
	}
	k, st := it.k, it.st
	it.key = sl.cut(func(b []byte) []byte { return pipeline.StateKey(b, k) })
	it.value = sl.cut(func(b []byte) []byte { return appendState(b, st) })
}

// Checkpoint implements Processor: the tombstones of the series expired
// and one record per device offset changed (expire.go), then one
// changelog record per series changed since the last checkpoint, keyed by
// series, then one per multivariate group changed, partition by
// partition, then one per sibling group
// changed (detect_peer.go). Keys and values are cut from
// shared slabs (see slab), not allocated one by one. A checkpoint of at
// least minRows records is encoded by the stage's workers, each a
// contiguous share of the records into its own slabs; the records are
// emitted in the same order either way.
func (d *Stage) Checkpoint(emit func(partition int32, key, value []byte)) {
	d.wait()
	items := d.ckpt[:0]
	for p, ps := range d.parts {
		d.checkpointGone(p, ps, emit)
		ps.exp.devs.TakeChanged(func(dev string, value []byte) { emit(p, offsetKey(dev), value) })
		for _, k := range ps.dirty {
			if st := ps.series[k]; st != nil {
				st.dirty = false
				items = append(items, ckptItem{p: p, k: k, st: st})
			}
		}
		ps.dirty = ps.dirty[:0]
		for _, g := range ps.dirtyGroups {
			g.dirty = false
			items = append(items, ckptItem{p: p, k: g.key, g: g})
		}
		ps.dirtyGroups = ps.dirtyGroups[:0]
	}
	d.encodeItems(items)
	for i := range items {
		emit(items[i].p, items[i].key, items[i].value)
	}
	clear(items) // hold no series or bytes past the checkpoint
	d.ckpt = items[:0]
	d.checkpointPeers(emit)
}

// encodeItems encodes items, on the workers when there are at least
// minRows of them.
func (d *Stage) encodeItems(items []ckptItem) {
	w := d.workers
	if w < 2 || len(items) < d.minRows {
		var sl slab
		for i := range items {
			items[i].encode(&sl)
		}
		return
	}
	var wg sync.WaitGroup
	share := (len(items) + w - 1) / w
	for lo := 0; lo < len(items); lo += share {
		part := items[lo:min(lo+share, len(items))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sl slab
			for i := range part {
				part[i].encode(&sl)
			}
		}()
	}
	wg.Wait()
}
