package enc

import (
	"errors"
	"testing"
)

func TestReadString(t *testing.T) {
	f := func(b []byte, want string, wantErr error, rest int) {
		t.Helper()
		r := Reader{B: b}
		got := ReadString(&r)
		if got != want || !errors.Is(r.Err, wantErr) || len(r.B) != rest {
			t.Errorf("ReadString(%q) = %q, err %v, %d bytes left; want %q, %v, %d", b, got, r.Err, len(r.B), want, wantErr, rest)
		}
	}
	f(append(AppendU(nil, 3), "abcd"...), "abc", nil, 1)
	f(AppendU(nil, 0), "", nil, 0)
	f(append(AppendU(nil, 5), "abc"...), "", ErrShort, 3)
	f(nil, "", ErrShort, 0)
	f(AppendString(append(AppendString(nil, "name=Ethernet1"), 1), "x"), "name=Ethernet1", nil, 3)
}
