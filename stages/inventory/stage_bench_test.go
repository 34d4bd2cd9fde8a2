package inventory

import (
	"context"
	"log/slog"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// BenchmarkAdd: the stage's cost per samples message without an LLDP
// sample (1000 counter samples), against decoding the message alone
// (decode), the least any stage reading the samples pays.
func BenchmarkAdd(b *testing.B) {
	r := stagetest.SamplesRecord(b, "samples", 1000, 0)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(r.Value)))
		for b.Loop() {
			rec, err := schemas.DecodeSamples(memory.DefaultAllocator, kafka.Headers(r), r.Value)
			if err != nil {
				b.Fatal(err)
			}
			rec.Release()
		}
	})
	b.Run("stage", func(b *testing.B) {
		st, err := New(Config{}, Fixed(nil), nil, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(r.Value)))
		for b.Loop() {
			if err := st.Add(context.Background(), r); err != nil {
				b.Fatal(err)
			}
		}
		if st.Pending() != 0 {
			b.Fatalf("%d LLDP samples kept from a message without any", st.Pending())
		}
	})
}

// TestAddAllocatesOnlyTheDecode: a samples message without an LLDP
// sample costs the stage no allocation beyond decoding it (the README's
// claim; BenchmarkAdd times both).
func TestAddAllocatesOnlyTheDecode(t *testing.T) {
	r := stagetest.SamplesRecord(t, "samples", 1000, 0)
	st, err := New(Config{}, Fixed(nil), nil, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	decode := testing.AllocsPerRun(50, func() {
		rec, err := schemas.DecodeSamples(memory.DefaultAllocator, kafka.Headers(r), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		rec.Release()
	})
	stage := testing.AllocsPerRun(50, func() {
		if err := st.Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	})
	if stage > decode {
		t.Errorf("Add allocates %.0f times a message, decoding alone %.0f", stage, decode)
	}
}
