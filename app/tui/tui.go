// Package tui is the live terminal view of `telekernel run`: one screen
// with the stages' throughput and lag, collector targets, the correlate
// stage's incidents (or the firing alerts when it does not run),
// the latest detections with their expected band, predicted failures,
// energy per device and the savings found. It is a Bubble Tea program that
// redraws a live.Snapshot every second; logs go to a file whose path it
// shows, never to the terminal.
package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/telekernel/telekernel/app/live"
)

// Options configure Run.
type Options struct {
	// Snapshot returns the state to show; called once per Refresh.
	Snapshot func() live.Snapshot
	// Stop asks the run to drain and stop (q or Ctrl-C); Done is closed
	// once it has, and the view exits then. A second q or Ctrl-C while the
	// run drains ends the view at once: Run returns ErrQuit.
	Stop func()
	Done <-chan struct{}
	// Stopping, when closed, says the run was asked to stop otherwise (a
	// signal): the view shows it draining until Done. The view takes no
	// first signal, so SIGTERM and SIGINT reach the run, not the view,
	// which stays up while the run drains; a signal after Stopping ends
	// the view, restoring the terminal, and is raised again.
	Stopping <-chan struct{}
	// LogPath is shown in the header: where the logs go meanwhile.
	LogPath string
	// Refresh is the redraw period; default 1s.
	Refresh time.Duration
	// Input and Output default to the process's terminal.
	Input  io.Reader
	Output io.Writer
	// AltScreen draws on the terminal's alternate screen, so the shell's
	// contents come back on exit.
	AltScreen bool
}

// ErrQuit is Run's error when q or Ctrl-C was pressed again while the run
// drained: the view has ended, and the run was left draining.
var ErrQuit = errors.New("quit before the run had drained (q or Ctrl-C pressed twice): what the stages had not committed is read again on the next start with a real Kafka, lost with the embedded broker")

type tickMsg struct{}
type doneMsg struct{}
type stoppingMsg struct{}

// Run shows the view until Done is closed (the view asks Stop on q or
// Ctrl-C first) or ctx is done.
func Run(ctx context.Context, opts Options) error {
	if opts.Refresh <= 0 {
		opts.Refresh = time.Second
	}
	var once sync.Once
	m := &model{opts: opts, start: time.Now(), stop: func() { once.Do(opts.Stop) }}
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithoutSignalHandler()}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	if opts.AltScreen {
		popts = append(popts, tea.WithAltScreen())
	}
	p := tea.NewProgram(m, popts...)
	// A signal while the run drains (the run's handler took the first and
	// has let go) ends the view at once, so the terminal is restored, and
	// is then raised again: the process ends as it would without the view.
	sigs := make(chan os.Signal, 1)
	killedBy := make(chan os.Signal, 1)
	go func() {
		stopping := opts.Stopping
		var signals chan os.Signal
		for {
			select {
			case <-stopping:
				p.Send(stoppingMsg{})
				stopping, signals = nil, sigs
				signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			case s := <-signals:
				killedBy <- s
				p.Kill()
				return
			case <-opts.Done:
				p.Send(doneMsg{})
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	_, err := p.Run()
	signal.Stop(sigs)
	if m.quit {
		return ErrQuit
	}
	select {
	case s := <-killedBy:
		if sig, ok := s.(syscall.Signal); ok {
			_ = syscall.Kill(os.Getpid(), sig)
		}
		return nil
	default:
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// model is the Bubble Tea model of the view.
type model struct {
	opts          Options
	start         time.Time
	stop          func()
	snap          live.Snapshot
	width, height int
	draining      bool
	quit          bool // a key asked to stop while draining
}

func (m *model) tick() tea.Cmd {
	return tea.Tick(m.opts.Refresh, func(time.Time) tea.Msg { return tickMsg{} })
}

// Init implements tea.Model.
func (m *model) Init() tea.Cmd {
	m.snap = m.opts.Snapshot()
	return m.tick()
}

// Update implements tea.Model.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tickMsg:
		m.snap = m.opts.Snapshot()
		return m, m.tick()
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyMsg:
		switch msg.String() {
		case "q", "ctrl+c", "esc":
			if m.draining {
				m.quit = true
				return m, tea.Quit
			}
			m.draining = true
			go m.stop()
		}
	case stoppingMsg:
		m.draining = true
	case doneMsg:
		return m, tea.Quit
	}
	return m, nil
}

// View implements tea.Model.
func (m *model) View() string {
	w, h := m.width, m.height
	if w <= 0 {
		w, h = 120, 40
	}
	return render(m.snap, frame{width: w, height: h, elapsed: time.Since(m.start), logPath: m.opts.LogPath, draining: m.draining})
}
