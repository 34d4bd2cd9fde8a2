package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"golang.org/x/term"

	"github.com/telekernel/telekernel/app"
	"github.com/telekernel/telekernel/app/live"
	"github.com/telekernel/telekernel/app/tui"
	"github.com/telekernel/telekernel/config"
)

// LogFileName is the file under the data folder that receives the logs
// while the live view is up.
const LogFileName = "telekernel.log"

// wantsView reports whether `run` shows the live view: unless --no-tui,
// when both stdin and stdout are terminals.
func wantsView(noTUI bool, in io.Reader, out io.Writer) bool {
	fi, ok1 := in.(*os.File)
	fo, ok2 := out.(*os.File)
	return !noTUI && ok1 && ok2 && term.IsTerminal(int(fi.Fd())) && term.IsTerminal(int(fo.Fd()))
}

// runWithView runs opts with the live view on in/out, the logs going to
// DATA/telekernel.log, and returns the run's outcome once it has drained.
// q or Ctrl-C in the view stops the run as a signal does; pressed again
// while the run drains, runWithView returns tui.ErrQuit at once.
func runWithView(ctx context.Context, cfg *config.Config, opts app.Options, in io.Reader, out io.Writer) (app.Summary, string, error) {
	logPath := filepath.Join(cfg.Parquet.Root, LogFileName)
	if err := os.MkdirAll(cfg.Parquet.Root, 0o755); err != nil {
		return app.Summary{}, logPath, fmt.Errorf("cannot open the log file: %w", err)
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return app.Summary{}, logPath, fmt.Errorf("cannot open the log file: %w", err)
	}
	defer f.Close()
	logCfg := cfg.Log
	if logCfg.Format == "auto" {
		logCfg.Format = "json"
	}
	opts.Log = newLogger(f, logCfg)
	warnDeprecated(opts.Log, cfg)
	var w atomic.Pointer[live.Watcher]
	opts.Watch = func(lw *live.Watcher) { w.Store(lw) }
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	var sum app.Summary
	go func() {
		defer close(done)
		sum, err = app.Run(runCtx, opts)
	}()
	viewErr := tui.Run(context.WithoutCancel(ctx), tui.Options{
		Snapshot: func() live.Snapshot {
			if lw := w.Load(); lw != nil {
				return lw.Snapshot()
			}
			return live.Snapshot{}
		},
		Stop: stop, Done: done, Stopping: ctx.Done(), LogPath: logPath, Input: in, Output: out, AltScreen: true,
	})
	if errors.Is(viewErr, tui.ErrQuit) {
		// A second q or Ctrl-C: the process ends now, as on a second signal.
		opts.Log.Warn("quit before the run had drained")
		return app.Summary{}, logPath, viewErr
	}
	if viewErr != nil {
		opts.Log.Error("live view failed; the run goes on until it stops", "err", viewErr)
		stop()
	}
	<-done
	return sum, logPath, err
}
