package oneline

import (
	"errors"
	"io"
	"testing"
)

// TestError: a joined error reads as one line, and errors.Is and As still
// find its parts.
func TestError(t *testing.T) {
	var pe *pathError
	err := Error{errors.Join(io.ErrUnexpectedEOF, &pathError{"a"}, errors.New("x"))}
	if got, want := err.Error(), "unexpected EOF; path a; x"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &pe) || pe.path != "a" {
		t.Errorf("errors.Is/As do not see through %v", err)
	}
}

// TestErrorDropsIndentation: a quoted statement's indentation after a
// line break is dropped.
func TestErrorDropsIndentation(t *testing.T) {
	err := Error{errors.New("syntax error at\n    device String,\n\tmetric String")}
	if got, want := err.Error(), "syntax error at; device String,; metric String"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

type pathError struct{ path string }

func (e *pathError) Error() string { return "path " + e.path }
