// Package cfgcheck holds the small pieces that the components'
// Config.WithDefaults and Config.Validate methods share: setting a zero
// field to its default, and the range checks that word the same problem the
// same way in every component ("alpha: 2 must be in (0, 1)"). Each component
// keeps its own Config, WithDefaults and Validate; these only shorten their
// bodies to one line a field. The package is pure: no I/O, no clock.
package cfgcheck

import (
	"fmt"
	"time"
)

// Number is the kinds of value the range checks take. A check prints the
// value with %v: a time.Duration as "1m0s", a float as 0.5, an int as 3.
type Number interface {
	int | int32 | int64 | float64 | time.Duration
}

// Default sets *v to d when *v is its type's zero value.
func Default[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// First returns the first non-nil error of errs, or nil. A Validate lists
// its checks in field order, so First reports the first bad field.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Positive reports "field: v must be positive" when v <= 0.
func Positive[T Number](field string, v T) error {
	if v <= 0 {
		return fmt.Errorf("%s: %v must be positive", field, v)
	}
	return nil
}

// NonNegative reports "field: v must not be negative" when v < 0.
func NonNegative[T Number](field string, v T) error {
	if v < 0 {
		return fmt.Errorf("%s: %v must not be negative", field, v)
	}
	return nil
}

// AtLeast reports "field: v must be at least lo" when v < lo.
func AtLeast[T Number](field string, v, lo T) error {
	if v < lo {
		return fmt.Errorf("%s: %v must be at least %v", field, v, lo)
	}
	return nil
}

// Fraction reports "field: v must be in (0, 1)" unless 0 < v < 1 (a NaN
// is out of range).
func Fraction(field string, v float64) error {
	if !(v > 0 && v < 1) {
		return fmt.Errorf("%s: %v must be in (0, 1)", field, v)
	}
	return nil
}

// Between reports "field: v must be between lo and hi" unless lo <= v <= hi.
func Between[T Number](field string, v, lo, hi T) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s: %v must be between %v and %v", field, v, lo, hi)
	}
	return nil
}

// Check reports the problem, formatted, when bad is true. It serves the
// checks no other helper words: the arguments are evaluated whether or not
// bad is, so a check whose arguments need an earlier check to pass (a shift
// by a field, an index) stays an if of its own.
func Check(bad bool, format string, args ...any) error {
	if bad {
		return fmt.Errorf(format, args...)
	}
	return nil
}

// Named checks a list of named items in order: each item's own check, its
// error prefixed "field[i]." (so "name: required" becomes
// "targets[2].name: required"), then that no earlier item has the same name
// ("targets[2].name: "r1" is used twice"). It returns the first problem.
func Named[T any](field string, items []T, name func(T) string, check func(T) error) error {
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		if err := check(it); err != nil {
			return fmt.Errorf("%s[%d].%w", field, i, err)
		}
		n := name(it)
		if seen[n] {
			return fmt.Errorf("%s[%d].name: %q is used twice", field, i, n)
		}
		seen[n] = true
	}
	return nil
}

// Section reports a nested section's error under its field, as
// "field.<error>" (the error wrapped), or nil.
func Section(field string, err error) error {
	if err != nil {
		return fmt.Errorf("%s.%w", field, err)
	}
	return nil
}
