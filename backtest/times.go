package backtest

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Epoch units, in nanoseconds, told apart by the magnitude of a value
// (epochUnit): seconds below 1e11 (year 5138), milliseconds below 1e14,
// microseconds below 1e17, nanoseconds from 1e17 (1973-03-03 in each of
// the three). A time must fit Unix nanoseconds in an int64 (up to
// 2262-04-11).
const (
	unitSecond      int64 = 1e9
	unitMillisecond int64 = 1e6
	unitMicrosecond int64 = 1e3
	unitNanosecond  int64 = 1
)

// epochUnit returns the unit of an epoch time v ≥ 0 by its magnitude.
func epochUnit(v float64) int64 {
	switch {
	case v < 1e11:
		return unitSecond
	case v < 1e14:
		return unitMillisecond
	case v < 1e17:
		return unitMicrosecond
	}
	return unitNanosecond
}

// unitName is the name of an epoch unit in messages.
func unitName(unit int64) string {
	switch unit {
	case unitSecond:
		return "seconds"
	case unitMillisecond:
		return "milliseconds"
	case unitMicrosecond:
		return "microseconds"
	}
	return "nanoseconds"
}

// epochNanos converts s, a number ≥ 0 that ParseFloat read as f, from
// unit to Unix nanoseconds: exactly when s is a plain decimal ("1504285748",
// "1500000005.25", digits beyond the nanosecond rounded half up), through
// float64 otherwise ("1.5e9"). It reports false when the time does not
// fit an int64.
func epochNanos(s string, f float64, unit int64) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || strings.Trim(frac, "0123456789") != "" || whole == "" || whole[0] < '0' || whole[0] > '9' {
		v := math.Round(f * float64(unit))
		if !(v >= 0 && v < math.MaxInt64) {
			return 0, false
		}
		return int64(v), true
	}
	if w > math.MaxInt64/unit {
		return 0, false
	}
	ns := w * unit
	// The fraction's digits, as many as unit has zeros, then rounding.
	var part int64
	for d := unit / 10; d > 0; d /= 10 {
		if frac != "" {
			part += int64(frac[0]-'0') * d
			frac = frac[1:]
		}
	}
	if frac != "" && frac[0] >= '5' {
		part++
	}
	if ns > math.MaxInt64-part {
		return 0, false
	}
	return ns + part, true
}

// dateTimeLayouts are the accepted layouts of a date-time after a space
// between the date and the time became a 'T' (fractional seconds are
// accepted after the seconds by time.Parse); without an offset it is UTC.
var dateTimeLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

// dateTimeForms names the accepted date-times in messages.
const dateTimeForms = "RFC 3339 or YYYY-MM-DD HH:MM:SS[.fff]"

// parseDateTime reads s as RFC 3339 or "YYYY-MM-DD HH:MM:SS[.fff]"
// (a 'T' or a space between date and time, an optional offset; UTC
// without one) or a date alone, between 1970 and 2262.
func parseDateTime(s string) (time.Time, bool) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			t = t.UTC()
			return t, t.Year() >= 1970 && t.Year() < 2262
		}
	}
	return time.Time{}, false
}
