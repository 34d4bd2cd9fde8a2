package main

import (
	"io"
	"sync"
)

// eraseLine returns the cursor to the start of the line and clears it.
const eraseLine = "\r\x1b[K"

// statusLine shares a terminal between the status line that
// app.Options.Progress redraws in place with "\r" and the log lines: a log
// line would otherwise start where the status line ends, so the status
// line is erased before it and drawn again after it. It is safe for
// concurrent use.
type statusLine struct {
	mu   sync.Mutex
	w    io.Writer
	last []byte // the status line on the screen; empty once ended by "\n"
}

// Write draws the status line (app.Options.Progress writes here).
func (s *statusLine) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = append(s.last[:0], p...)
	if len(p) > 0 && p[len(p)-1] == '\n' {
		s.last = s.last[:0]
	}
	return s.w.Write(p)
}

// logs returns the writer of the log lines.
func (s *statusLine) logs() io.Writer { return statusLogs{s} }

// statusLogs writes log lines under a statusLine.
type statusLogs struct{ s *statusLine }

// Write writes one log line (slog writes each record whole), erasing the
// status line before it and drawing it again after it.
func (l statusLogs) Write(p []byte) (int, error) {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.last) == 0 {
		return s.w.Write(p)
	}
	if _, err := io.WriteString(s.w, eraseLine); err != nil {
		return 0, err
	}
	n, err := s.w.Write(p)
	if err != nil {
		return n, err
	}
	_, err = s.w.Write(s.last)
	return n, err
}
