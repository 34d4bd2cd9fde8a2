// Package maintenance predicts component failures from health trends.
//
// A Tracker follows health signals (transceiver rx power and laser bias,
// temperatures, fan speed, PSU efficiency, error rates): it reduces each
// series to the medians of fixed buckets (an hour by default), fits a
// robust level and slope over a window of buckets (Theil–Sen, with Sen's
// rank interval for the slope and the Mann–Kendall statistic for the
// confidence that the trend is real), and extrapolates it to the signal's
// failure threshold: the device's own alarm threshold when it reports one,
// else a configured absolute threshold, else a configured distance from the
// series' learned healthy baseline. The result is a predicted time to
// failure with an interval.
//
// Each (device, component, signal) has at most one open maintenance case,
// with the lifecycle of schemas.MaintenanceEvent: it opens when the trend
// is significant, heads for the threshold within the horizon and has moved
// part of the way; it is updated when the prediction moves; it closes as
// recovered when the trend goes away, failed when the threshold is crossed
// (the component is then expected to be replaced, and its baseline is
// learned again), or stale when the series stops.
//
// Tracker state serializes per series (AppendState, RestoreState), with a
// version. The package does no I/O and nothing in it is safe for
// concurrent use.
package maintenance
