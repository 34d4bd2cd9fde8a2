package schemas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// patchSchemaMessage returns a copy of value with the uint32 at the position
// that find returns, inside the first message's metadata, set to n.
func patchSchemaMessage(t *testing.T, value []byte, n uint32, find func(msg fbTable) int64) []byte {
	t.Helper()
	out := bytes.Clone(value)
	meta, err := firstMessageMetadata(out)
	if err != nil {
		t.Fatal(err)
	}
	v := &fbVerifier{b: meta}
	msg, err := v.root()
	if err != nil {
		t.Fatal(err)
	}
	p := find(msg)
	binary.LittleEndian.PutUint32(meta[p:], n) // meta aliases out
	return out
}

// vectorAt returns the position of the length word of the vector in slot.
func vectorAt(t *testing.T, tab fbTable, slot int) int64 {
	t.Helper()
	p, ok, err := tab.ref(slot)
	if err != nil || !ok {
		t.Fatalf("no vector in slot %d: %v", slot, err)
	}
	return p
}

func schemaTable(t *testing.T, msg fbTable) fbTable {
	t.Helper()
	s, ok, err := msg.table(2)
	if err != nil || !ok {
		t.Fatalf("no schema: %v", err)
	}
	return s
}

func firstField(t *testing.T, msg fbTable) fbTable {
	t.Helper()
	var first fbTable
	found := false
	err := schemaTable(t, msg).tables(1, func(f fbTable) error {
		if !found {
			first, found = f, true
		}
		return nil
	})
	if err != nil || !found {
		t.Fatalf("no field: %v", err)
	}
	return first
}

// TestDecodeSamplesCorruptSchemaLengths sets vector lengths in the schema
// message to huge values. The IPC reader would size slices by them and die
// of an out-of-memory error that recover cannot catch; the decoder must
// return ErrMalformed instead.
func TestDecodeSamplesCorruptSchemaLengths(t *testing.T) {
	value := encodeRows(t, []Sample{counter("edge-1", inOctets, "name=Ethernet1", t0, 1)})
	f := func(name string, find func(t *testing.T, msg fbTable) int64) {
		t.Run(name, func(t *testing.T) {
			for _, n := range []uint32{0x7fffffff, 0xffffffff, 1 << 24} {
				bad := patchSchemaMessage(t, value, n, func(msg fbTable) int64 { return find(t, msg) })
				mem := newCheckedMem(t)
				rec, err := DecodeSamplesValue(mem, bad)
				if err == nil {
					rec.Release()
					t.Fatalf("length %#x: decoded", n)
				}
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "overruns") {
					t.Fatalf("length %#x: %v, want ErrMalformed saying the vector overruns", n, err)
				}
			}
		})
	}
	f("schema fields", func(t *testing.T, msg fbTable) int64 { return vectorAt(t, schemaTable(t, msg), 1) })
	f("schema metadata", func(t *testing.T, msg fbTable) int64 { return vectorAt(t, schemaTable(t, msg), 2) })
	f("field name", func(t *testing.T, msg fbTable) int64 { return vectorAt(t, firstField(t, msg), 0) })
	f("timestamp zone", func(t *testing.T, msg fbTable) int64 {
		typ, ok, err := firstField(t, msg).table(3)
		if err != nil || !ok {
			t.Fatal("ts has no type table")
		}
		return vectorAt(t, typ, 1)
	})
}

func TestVerifySchemaMessageLimits(t *testing.T) {
	nested := func(depth int) *arrow.Schema {
		var typ arrow.DataType = arrow.PrimitiveTypes.Int64
		for i := 0; i < depth; i++ {
			typ = arrow.StructOf(arrow.Field{Name: fmt.Sprint("s", i), Type: typ, Nullable: true})
		}
		return arrow.NewSchema([]arrow.Field{{Name: "deep", Type: typ, Nullable: true}}, nil)
	}
	wide := func(n int) *arrow.Schema {
		fs := make([]arrow.Field, n)
		for i := range fs {
			fs[i] = arrow.Field{Name: fmt.Sprint("c", i), Type: arrow.PrimitiveTypes.Int64}
		}
		return arrow.NewSchema(fs, nil)
	}
	f := func(name string, s *arrow.Schema, wantErr string) {
		t.Run(name, func(t *testing.T) {
			value := writeStream(t, s)
			err := verifySchemaMessage(value)
			if wantErr == "" {
				if err != nil {
					t.Fatalf("verifySchemaMessage: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("verifySchemaMessage = %v, want an error mentioning %q", err, wantErr)
			}
			mem := newCheckedMem(t)
			if _, err := DecodeSamplesValue(mem, value); !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeSamplesValue = %v, want ErrMalformed", err)
			}
		})
	}
	f("samples", SamplesSchema(), "")
	f("nested 30 deep", nested(30), "")
	f("nested 40 deep", nested(40), "deeper than 32")
	f("1000 fields", wide(1000), "")
	f("2000 fields", wide(2000), "more than 1024 fields")
	f("union", arrow.NewSchema([]arrow.Field{{Name: "u", Type: arrow.SparseUnionOf(
		[]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}}, []arrow.UnionTypeCode{7})}}, nil), "")

	g := func(name string, value []byte, wantErr string) {
		t.Run(name, func(t *testing.T) {
			err := verifySchemaMessage(value)
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("verifySchemaMessage = %v, want an error mentioning %q", err, wantErr)
			}
		})
	}
	g("empty", nil, "too short")
	g("continuation only", []byte{0xff, 0xff, 0xff, 0xff}, "too short")
	g("end marker first", []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, "ends before its schema")
	g("legacy end marker first", []byte{0, 0, 0, 0}, "ends before its schema")
	g("message longer than value", []byte{0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0, 1, 2}, "longer than")
	g("root offset out of bounds", []byte{0xff, 0xff, 0xff, 0xff, 4, 0, 0, 0, 0xff, 0xff, 0, 0}, "out of bounds")
	// A record batch message where the schema should be.
	g("record batch first", func() []byte {
		value := encodeRows(t, []Sample{counter("edge-1", inOctets, "", t0, 1)})
		meta, _ := firstMessageMetadata(value)
		rest := value[8+len(meta):]
		for len(rest) > 8 { // skip to the first record batch message (after the dictionaries)
			m, err := firstMessageMetadata(rest)
			if err != nil {
				t.Fatal(err)
			}
			v := &fbVerifier{b: m}
			msg, _ := v.root()
			if typ, _ := msg.uint8(1); typ == 3 {
				return rest
			}
			// Follow the framing: metadata, then a body of bodyLength bytes.
			p, _, _ := msg.field(3, 8)
			rest = rest[8+len(m)+int(binary.LittleEndian.Uint64(m[p:])):]
		}
		t.Fatal("no record batch message found")
		return nil
	}(), "not a schema")
}

// TestDecodeSamplesCompressed checks that compressed streams, which the
// Arrow IPC format allows, decode like uncompressed ones.
func TestDecodeSamplesCompressed(t *testing.T) {
	rows := manyRows(1000)
	f := func(name string, opt ipc.Option) {
		t.Run(name, func(t *testing.T) {
			buildMem := newCheckedMem(t)
			rec := buildRecord(buildMem, rows)
			var buf bytes.Buffer
			w := ipc.NewWriter(&buf, ipc.WithSchema(SamplesSchema()), ipc.WithAllocator(buildMem), opt)
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rec.Release()

			mem := newCheckedMem(t)
			got, err := DecodeSamples(mem, SamplesHeaders(), buf.Bytes())
			if err != nil {
				t.Fatalf("DecodeSamples: %v", err)
			}
			defer got.Release()
			out, err := Samples(got)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffSamples(out, normalized(rows)); d != "" {
				t.Fatal(d)
			}
		})
	}
	f("lz4", ipc.WithLZ4())
	f("zstd", ipc.WithZstd())
}

func TestDecodeAllocator(t *testing.T) {
	t.Run("budget", func(t *testing.T) {
		mem := newCheckedMem(t)
		a := newDecodeAllocator(mem)
		b := a.Allocate(1 << 10)
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "decode budget") {
					t.Errorf("allocation over budget: recovered %v, want a budget panic", p)
				}
			}()
			a.Allocate(maxDecodedBytes)
		}()
		b = a.Reallocate(4<<10, b)
		a.Free(b)
		a.finish(true)
	})
	t.Run("failed decode frees what was dropped", func(t *testing.T) {
		mem := newCheckedMem(t)
		a := newDecodeAllocator(mem)
		a.Free(a.Allocate(100))
		_ = a.Allocate(200)                   // dropped
		_ = a.Reallocate(300, a.Allocate(64)) // dropped after a move
		a.finish(false)
		if n := mem.CurrentAlloc(); n != 0 {
			t.Fatalf("%d bytes still allocated", n)
		}
	})
	t.Run("after finish, calls go to mem", func(t *testing.T) {
		mem := newCheckedMem(t)
		a := newDecodeAllocator(mem)
		b := a.Allocate(128)
		a.finish(true)
		if n := mem.CurrentAlloc(); n != 128 {
			t.Fatalf("finish(true) freed live memory: %d bytes left", n)
		}
		c := a.Allocate(maxDecodedBytes / 1024)
		a.Free(c)
		a.Free(b)
	})
	var _ memory.Allocator = (*decodeAllocator)(nil)
}
