package schemas

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The Arrow IPC reader converts a stream's schema message from its
// FlatBuffers form without verifying it: it sizes slices by vector lengths
// read straight from the message (fields, children, metadata, union type
// ids). A corrupt length there makes it allocate terabytes, which is a fatal
// out-of-memory error that recover cannot catch. verifySchemaMessage walks
// the parts of the schema message the reader will read and checks that every
// table, vector and string lies inside the message, so no length can exceed
// the message's own size. It also bounds the nesting depth and the total
// number of fields, because FlatBuffers can share one table between many
// parents and so describe an exponentially large schema in a few bytes.
//
// Only the schema message needs this: DecodeSamplesValue compares the schema
// with the samples schema before the reader loads any record or dictionary
// batch, and loading those for the samples column types sizes nothing by
// vector lengths.

const (
	maxSchemaFields = 1024 // fields at all depths, counting shared ones each time
	maxSchemaDepth  = 32
)

// FlatBuffers union type tags used below (Schema.fbs, Message.fbs).
const (
	fbHeaderSchema  = 1
	fbTypeTimestamp = 10
	fbTypeUnion     = 14
)

var errFlatbuf = errors.New("corrupt schema message")

// verifySchemaMessage checks the first message of the IPC stream in value.
func verifySchemaMessage(value []byte) error {
	meta, err := firstMessageMetadata(value)
	if err != nil {
		return err
	}
	v := &fbVerifier{b: meta}
	msg, err := v.root()
	if err != nil {
		return err
	}
	if err := msg.keyValues(4); err != nil { // Message.custom_metadata
		return err
	}
	typ, err := msg.uint8(1) // Message.header_type
	if err != nil {
		return err
	}
	if typ != fbHeaderSchema {
		return fmt.Errorf("first message is not a schema (header type %d)", typ)
	}
	schema, ok, err := msg.table(2) // Message.header
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: schema message has no schema", errFlatbuf)
	}
	if err := schema.keyValues(2); err != nil { // Schema.custom_metadata
		return err
	}
	if _, _, err := schema.vector(3, 8); err != nil { // Schema.features
		return err
	}
	return v.fields(schema, 1, 0) // Schema.fields
}

// firstMessageMetadata returns the FlatBuffers metadata of the first message
// of an IPC stream, in either framing (with or without the 0xFFFFFFFF
// continuation marker).
func firstMessageMetadata(value []byte) ([]byte, error) {
	if len(value) < 4 {
		return nil, fmt.Errorf("stream of %d bytes is too short", len(value))
	}
	n, off := binary.LittleEndian.Uint32(value), 4
	if n == 0xFFFFFFFF {
		if len(value) < 8 {
			return nil, fmt.Errorf("stream of %d bytes is too short", len(value))
		}
		n, off = binary.LittleEndian.Uint32(value[4:]), 8
	}
	if n == 0 {
		return nil, errors.New("stream ends before its schema")
	}
	if int64(n) > int64(len(value)-off) {
		return nil, fmt.Errorf("schema message of %d bytes is longer than the %d bytes left", n, len(value)-off)
	}
	return value[off : off+int(n)], nil
}

type fbVerifier struct {
	b       []byte
	nfields int
}

// fbTable is a verified table: its vtable and inline part lie in the buffer.
type fbTable struct {
	v      *fbVerifier
	pos    int64
	vt     int64
	vtSize int64
	size   int64
}

func (v *fbVerifier) inBounds(pos, n int64) bool {
	return pos >= 0 && n >= 0 && pos <= int64(len(v.b)) && n <= int64(len(v.b))-pos
}

func (v *fbVerifier) u32(pos int64) (int64, error) {
	if !v.inBounds(pos, 4) {
		return 0, fmt.Errorf("%w: offset %d out of bounds", errFlatbuf, pos)
	}
	return int64(binary.LittleEndian.Uint32(v.b[pos:])), nil
}

func (v *fbVerifier) root() (fbTable, error) {
	off, err := v.u32(0)
	if err != nil {
		return fbTable{}, err
	}
	return v.tableAt(off)
}

func (v *fbVerifier) tableAt(pos int64) (fbTable, error) {
	if !v.inBounds(pos, 4) {
		return fbTable{}, fmt.Errorf("%w: table at %d out of bounds", errFlatbuf, pos)
	}
	vt := pos - int64(int32(binary.LittleEndian.Uint32(v.b[pos:])))
	if !v.inBounds(vt, 4) {
		return fbTable{}, fmt.Errorf("%w: vtable at %d out of bounds", errFlatbuf, vt)
	}
	vtSize := int64(binary.LittleEndian.Uint16(v.b[vt:]))
	size := int64(binary.LittleEndian.Uint16(v.b[vt+2:]))
	if vtSize < 4 || vtSize%2 != 0 || !v.inBounds(vt, vtSize) {
		return fbTable{}, fmt.Errorf("%w: vtable of %d bytes at %d", errFlatbuf, vtSize, vt)
	}
	if size < 4 || !v.inBounds(pos, size) {
		return fbTable{}, fmt.Errorf("%w: table of %d bytes at %d", errFlatbuf, size, pos)
	}
	return fbTable{v: v, pos: pos, vt: vt, vtSize: vtSize, size: size}, nil
}

// field returns the position of field slot in the table and whether it is
// present, checking that width bytes there lie inside the table.
func (t fbTable) field(slot int, width int64) (int64, bool, error) {
	voff := int64(4 + 2*slot)
	if voff+2 > t.vtSize {
		return 0, false, nil
	}
	off := int64(binary.LittleEndian.Uint16(t.v.b[t.vt+voff:]))
	if off == 0 {
		return 0, false, nil
	}
	if off+width > t.size {
		return 0, false, fmt.Errorf("%w: field %d at %d+%d overruns its table of %d bytes", errFlatbuf, slot, t.pos, off, t.size)
	}
	return t.pos + off, true, nil
}

func (t fbTable) uint8(slot int) (uint8, error) {
	p, ok, err := t.field(slot, 1)
	if err != nil || !ok {
		return 0, err
	}
	return t.v.b[p], nil
}

// ref follows the offset in field slot and returns where it points.
func (t fbTable) ref(slot int) (int64, bool, error) {
	p, ok, err := t.field(slot, 4)
	if err != nil || !ok {
		return 0, false, err
	}
	u, err := t.v.u32(p)
	if err != nil {
		return 0, false, err
	}
	return p + u, true, nil
}

func (t fbTable) table(slot int) (fbTable, bool, error) {
	p, ok, err := t.ref(slot)
	if err != nil || !ok {
		return fbTable{}, false, err
	}
	sub, err := t.v.tableAt(p)
	return sub, err == nil, err
}

// vector checks the vector in field slot and returns the position of its
// first element and its length.
func (t fbTable) vector(slot int, elemSize int64) (int64, int64, error) {
	p, ok, err := t.ref(slot)
	if err != nil || !ok {
		return 0, 0, err
	}
	n, err := t.v.u32(p)
	if err != nil {
		return 0, 0, err
	}
	if !t.v.inBounds(p+4, n*elemSize) {
		return 0, 0, fmt.Errorf("%w: vector of %d×%d bytes at %d overruns the message", errFlatbuf, n, elemSize, p)
	}
	return p + 4, n, nil
}

func (t fbTable) str(slot int) error {
	_, _, err := t.vector(slot, 1)
	return err
}

// tables checks a vector of tables and calls f on each.
func (t fbTable) tables(slot int, f func(fbTable) error) error {
	start, n, err := t.vector(slot, 4)
	if err != nil {
		return err
	}
	for i := int64(0); i < n; i++ {
		p := start + 4*i
		u, _ := t.v.u32(p) // in bounds: the vector was checked
		sub, err := t.v.tableAt(p + u)
		if err != nil {
			return err
		}
		if err := f(sub); err != nil {
			return err
		}
	}
	return nil
}

// keyValues checks a vector of KeyValue tables (custom_metadata).
func (t fbTable) keyValues(slot int) error {
	return t.tables(slot, func(kv fbTable) error {
		if err := kv.str(0); err != nil {
			return err
		}
		return kv.str(1)
	})
}

// fields checks a vector of Field tables and, recursively, their children.
func (v *fbVerifier) fields(parent fbTable, slot, depth int) error {
	if depth > maxSchemaDepth {
		return fmt.Errorf("%w: fields nested deeper than %d", errFlatbuf, maxSchemaDepth)
	}
	return parent.tables(slot, func(f fbTable) error {
		v.nfields++
		if v.nfields > maxSchemaFields {
			return fmt.Errorf("%w: more than %d fields", errFlatbuf, maxSchemaFields)
		}
		if err := f.str(0); err != nil { // name
			return err
		}
		typ, err := f.uint8(2) // type_type
		if err != nil {
			return err
		}
		if t, ok, err := f.table(3); err != nil { // type
			return err
		} else if ok {
			switch typ {
			case fbTypeTimestamp:
				err = t.str(1) // timezone
			case fbTypeUnion:
				_, _, err = t.vector(1, 4) // typeIds
			}
			if err != nil {
				return err
			}
		}
		if d, ok, err := f.table(4); err != nil { // dictionary
			return err
		} else if ok {
			if _, _, err := d.table(1); err != nil { // indexType
				return err
			}
		}
		if err := f.keyValues(6); err != nil { // custom_metadata
			return err
		}
		return v.fields(f, 5, depth+1) // children
	})
}
