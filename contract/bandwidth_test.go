package contract

import (
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	cases := map[string]int64{
		"0": 0, "8388608": 8 << 20, "8MiB": 8 << 20, "8mib": 8 << 20, "8M": 8 << 20, "8MB": 8e6,
		"512KiB": 512 << 10, "1GiB": 1 << 30, " 64k ": 64 << 10, "100b": 100, "2TiB": 2 << 40,
	}
	for in, want := range cases {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "-1", "1.5MiB", "MiB", "1PiB", "99999999999999999999", "9999999TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded, want error", in)
		}
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]int64{
		"off": 0, "OFF": 0, "0": 0, "2MiB": 2 << 20, "512KiB": 512 << 10, "16M": 16 << 20, "1MB": 1e6, "2MiB/s": 2 << 20, "1024B": 1024,
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"512":   `"512" has no unit: write e.g. 512KiB (rclone's bare numbers are KiB/s) or 512B`,
		"fast":  `"fast" is not a rate`,
		"100B":  "below the lowest limit of 1KiB per second",
		"-1MiB": "is not a rate",
	} {
		if _, err := ParseRate(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRate(%q) = %v, want an error containing %q", in, err, want)
		}
	}
	for _, n := range []int64{0, 1 << 10, 3 << 20, 5 << 30, 1500} {
		if got, err := ParseRate(FormatRate(n)); err != nil && n >= MinRate || err == nil && got != n {
			t.Errorf("FormatRate(%d) = %q reads back as %d, %v", n, FormatRate(n), got, err)
		}
	}
}

func TestRateSchedule(t *testing.T) {
	loc := time.FixedZone("board", 2*3600)
	at := func(s string) time.Time { // 2026-12-07 is a Monday
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	rs, err := ParseRateSchedule("08:00,512KiB 18:00,off")
	if err != nil {
		t.Fatal(err)
	}
	if rs.String() != "08:00,512KiB 18:00,off" {
		t.Errorf("String() = %q", rs.String())
	}
	for _, c := range []struct {
		now, next string
		rate      int64
	}{
		{"2026-12-07 07:59", "2026-12-07 08:00", 0}, // before the first entry: the last one (18:00, off) holds
		{"2026-12-07 08:00", "2026-12-07 18:00", 512 << 10},
		{"2026-12-07 12:30", "2026-12-07 18:00", 512 << 10},
		{"2026-12-07 18:00", "2026-12-08 08:00", 0},
		{"2026-12-13 23:59", "2026-12-14 08:00", 0}, // Sunday night wraps to Monday
	} {
		rate, next := rs.At(at(c.now))
		if rate != c.rate || !next.Equal(at(c.next)) {
			t.Errorf("At(%s) = %d until %s, want %d until %s", c.now, rate, next.Format("2006-01-02 15:04"), c.rate, c.next)
		}
	}
	week, err := ParseRateSchedule("Mon-08:00,1MiB; Fri-18:00,off Sat-10:00,256KiB")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		now, next string
		rate      int64
	}{
		{"2026-12-07 07:00", "2026-12-07 08:00", 256 << 10}, // Monday before 08:00: Saturday's entry
		{"2026-12-09 12:00", "2026-12-11 18:00", 1 << 20},   // Wednesday: Monday's, until Friday 18:00
		{"2026-12-12 10:00", "2026-12-14 08:00", 256 << 10},
	} {
		rate, next := week.At(at(c.now))
		if rate != c.rate || !next.Equal(at(c.next)) {
			t.Errorf("week At(%s) = %d until %s, want %d until %s", c.now, rate, next.Format("2006-01-02 15:04"), c.rate, c.next)
		}
	}
	if rs, err := ParseRateSchedule("  "); err != nil || rs != nil {
		t.Errorf("empty schedule: %v %v", rs, err)
	}
	if rate, next := RateSchedule(nil).At(time.Now()); rate != 0 || !next.IsZero() {
		t.Errorf("no schedule: %d %v", rate, next)
	}
	for in, want := range map[string]string{
		"08:00":                 `"08:00" is not a timetable entry: write HH:MM,RATE`,
		"8:00,1MiB":             `"8:00" is not a time of day`,
		"24:00,1MiB":            "is not a time of day",
		"Mon-08:00,512":         `"Mon-08:00,512": "512" has no unit`,
		"Xyz-08:00,1MiB":        `"Xyz" is not a day`,
		"08:00,1MiB 08:00,off":  `"08:00,1MiB" and "08:00,off" start at the same time`,
		"Mon-08:00,1M 08:00,2M": "start at the same time",
	} {
		if _, err := ParseRateSchedule(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRateSchedule(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}
