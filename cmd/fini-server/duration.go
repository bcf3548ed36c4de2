package main

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// day is the unit retention is usually spoken of in.
const day = 24 * time.Hour

// duration is a flag value taking a Go duration (720h, 90m) or whole days (30d): retentions
// are said in days, which Go's durations lack. Negative values are refused.
type duration time.Duration

// errDuration is what a bad value is told; pflag quotes the value itself.
var errDuration = errors.New("want a duration such as 720h or 90m, or whole days such as 30d")

// Set parses s.
func (d *duration) Set(s string) error {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return errDuration
		}
		*d = duration(time.Duration(n) * day)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return errDuration
	}
	if v < 0 {
		return errors.New("cannot be negative")
	}
	*d = duration(v)
	return nil
}

// String prints whole days as days, anything else as Go does.
func (d *duration) String() string {
	v := time.Duration(*d)
	if v > 0 && v%day == 0 {
		return strconv.FormatInt(int64(v/day), 10) + "d"
	}
	return v.String()
}

// Type names the value in --help; "duration" also makes pflag treat 0s as no default.
func (d *duration) Type() string { return "duration" }
