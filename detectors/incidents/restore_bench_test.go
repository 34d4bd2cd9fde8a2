package incidents

import (
	"fmt"
	"testing"
)

// BenchmarkRestoreRecords restores an engine of n incidents record by
// record, counting the open ones after each as the correlate stage does:
// the time per incident stays flat as n grows.
func BenchmarkRestoreRecords(b *testing.B) {
	for _, n := range []int{1000, 10000, 40000} {
		recs := incidentRecords(b, n)
		var size int64
		for _, r := range recs {
			size += int64(len(r.Value))
		}
		b.Run(fmt.Sprint("incidents=", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				e, _ := New(Config{}, nil)
				for _, r := range recs {
					if err := e.RestoreRecord(r.Key, r.Value); err != nil {
						b.Fatal(err)
					}
					_ = e.OpenCount()
				}
			}
		})
	}
}
