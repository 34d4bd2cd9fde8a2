package enc

// ReadString reads a string written as its length (AppendU) and its bytes;
// a length past the record's end sets ErrShort.
func ReadString(r *Reader) string {
	n := r.U()
	if r.Err == nil && n > uint64(len(r.B)) {
		r.Err = ErrShort
	}
	if r.Err != nil {
		return ""
	}
	s := string(r.B[:n])
	r.B = r.B[n:]
	return s
}

// AppendString appends s as its length and its bytes (ReadString reads it).
func AppendString(dst []byte, s string) []byte {
	dst = AppendU(dst, uint64(len(s)))
	return append(dst, s...)
}
