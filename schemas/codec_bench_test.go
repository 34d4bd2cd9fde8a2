package schemas

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkDecodeSamples measures DecodeSamples, with its full validation,
// per message size.
func BenchmarkDecodeSamples(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			value := encodeRows(b, manyRows(n))
			headers := SamplesHeaders()
			mem := memory.NewGoAllocator()
			b.SetBytes(int64(len(value)))
			b.ReportAllocs()
			for b.Loop() {
				rec, err := DecodeSamples(mem, headers, value)
				if err != nil {
					b.Fatal(err)
				}
				rec.Release()
			}
		})
	}
}

// BenchmarkEncodeSamples measures building and encoding a message.
func BenchmarkEncodeSamples(b *testing.B) {
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			rows := manyRows(n)
			mem := memory.NewGoAllocator()
			sb := NewSampleBuilder(mem)
			defer sb.Release()
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				for i := range rows {
					sb.Append(&rows[i])
				}
				rec := sb.NewRecord()
				var err error
				buf, err = EncodeSamples(buf[:0], rec)
				rec.Release()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkValidateSamples measures the checks DecodeSamples runs on a
// decoded record of 10 000 rows of every kind.
func BenchmarkValidateSamples(b *testing.B) {
	value := encodeRows(b, manyRows(10_000))
	rec, err := DecodeSamples(memory.NewGoAllocator(), SamplesHeaders(), value)
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Release()
	b.ReportAllocs()
	for b.Loop() {
		if err := validateSamples(rec); err != nil {
			b.Fatal(err)
		}
	}
}
