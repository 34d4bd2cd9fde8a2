package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/telekernel/telekernel/internal/config"
	"github.com/telekernel/telekernel/pipeline"
)

type addStage func(name, group, topic string, sink pipeline.Sink, rows int, every time.Duration, afterDetect bool) error

func addClickHouse(ctx context.Context, cfg *config.Config, log *slog.Logger, add addStage) (io.Closer, error) {
	if len(cfg.ClickHouse.Addr) == 0 {
		return nil, nil
	}
	return nil, errors.New("clickhouse: not wired yet")
}
