package share

import (
	"hash/fnv"
	"slices"
)

// Bucket returns the bucket, 0 to n-1, of the target called name: FNV-1a of
// the name modulo n. Every process computes the same bucket for a name.
func Bucket(name string, n int32) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return int32(h.Sum32() % uint32(n))
}

// Owned is an immutable set of buckets out of N. The zero value owns
// nothing.
type Owned struct {
	n   int32
	set map[int32]bool
}

// NewOwned returns the set of buckets out of n.
func NewOwned(n int32, buckets ...int32) Owned {
	o := Owned{n: n, set: make(map[int32]bool, len(buckets))}
	for _, b := range buckets {
		o.set[b] = true
	}
	return o
}

// Owns reports whether the target called name is in an owned bucket.
func (o Owned) Owns(name string) bool {
	return o.n > 0 && o.set[Bucket(name, o.n)]
}

// Buckets returns the owned buckets in order.
func (o Owned) Buckets() []int32 {
	out := make([]int32, 0, len(o.set))
	for b := range o.set {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

// Len is the number of owned buckets.
func (o Owned) Len() int { return len(o.set) }

// with returns a copy of o plus add minus del.
func (o Owned) with(add, del []int32) Owned {
	n := Owned{n: o.n, set: make(map[int32]bool, len(o.set)+len(add))}
	for b := range o.set {
		n.set[b] = true
	}
	for _, b := range add {
		n.set[b] = true
	}
	for _, b := range del {
		delete(n.set, b)
	}
	return n
}

// Filter returns the elements of items whose name the set owns, in order.
func Filter[T any](o Owned, items []T, name func(T) string) []T {
	var out []T
	for _, it := range items {
		if o.Owns(name(it)) {
			out = append(out, it)
		}
	}
	return out
}
