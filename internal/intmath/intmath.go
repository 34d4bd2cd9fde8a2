// Package intmath holds integer arithmetic the standard library lacks.
package intmath

// FloorDiv returns a/b rounded towards minus infinity, for b > 0: the
// index of the b-wide interval a is in, for a negative a (a time before
// 1970) as for a positive one. Go's division truncates towards zero.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
