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

// Error returns Err's message with its line breaks written as "; ".
func (e Error) Error() string { return strings.ReplaceAll(e.Err.Error(), "\n", "; ") }

// Unwrap returns Err.
func (e Error) Unwrap() error { return e.Err }
