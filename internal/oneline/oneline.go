// Package oneline keeps an error's message on one line, for a log line or
// an error a stage stops with, while errors.Is and errors.As still see the
// error.
package oneline

import "strings"

// Error is Err with its message on one line: each line break becomes "; ".
// errors.Join puts one between the errors it joins (franz-go joins a
// request's per-partition errors so), and a value quoted in a message may
// hold some. Unwrap returns Err, so errors.Is and errors.As see through
// it. Err must not be nil.
type Error struct{ Err error }

// Error returns Err's message with its line breaks written as "; ", and
// the indentation after them dropped (a server's exception may quote an
// indented statement).
func (e Error) Error() string {
	lines := strings.Split(e.Err.Error(), "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = strings.TrimLeft(lines[i], " \t")
	}
	return strings.Join(lines, "; ")
}

// Unwrap returns Err.
func (e Error) Unwrap() error { return e.Err }
