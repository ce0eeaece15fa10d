package contract

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sizes and bandwidth: the task reads them from its environment
// (EnvPartSize, EnvMaxRate, EnvRateSchedule, …) and the CDK app checks the
// values it puts there (boardMaxRate, boardRateSchedule) with the same
// parser, so a value that synthesizes is a value the board accepts.

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000}, {"tb", 1000 * 1000 * 1000 * 1000},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// ParseSize parses a byte count: "8388608", "8MiB", "8M" (binary), "8MB"
// (decimal), "512KiB", "1GiB", "100B". Units are case-insensitive.
func ParseSize(s string) (int64, error) {
	n, _, err := parseSize(s)
	return n, err
}

// parseSize also says whether s carried a unit.
func parseSize(s string) (int64, bool, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult, unit := int64(1), false
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t = strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			mult, unit = u.mult, true
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("%q is not a size (bytes, or e.g. 8MiB)", s)
	}
	if n > math.MaxInt64/mult {
		return 0, false, fmt.Errorf("%q is too large", s)
	}
	return n * mult, unit, nil
}

// RateOff is how a rate is switched off ("no limit").
const RateOff = "off"

// MinRate is the lowest bandwidth limit, in bytes per second: below it a
// single 8 MiB part would take hours.
const MinRate = 1 << 10

// ParseRate parses a bandwidth in bytes per second: a size with a unit
// ("2MiB", "512KiB", "16M", optionally followed by "/s"), or "off" or "0"
// for no limit (0). A bare number other than 0 is refused: rclone reads
// "512" as KiB/s and a byte count would be a thousand times slower.
func ParseRate(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, RateOff) || t == "0" {
		return 0, nil
	}
	t = strings.TrimSuffix(t, "/s")
	n, unit, err := parseSize(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a rate (e.g. 2MiB, 512KiB, or off)", s)
	}
	if !unit {
		return 0, fmt.Errorf("%q has no unit: write e.g. %sKiB (rclone's bare numbers are KiB/s) or %sB", s, t, t)
	}
	if n < MinRate {
		return 0, fmt.Errorf("%q is below the lowest limit of 1KiB per second (use off for no limit)", s)
	}
	return n, nil
}

// FormatRate writes a rate the way ParseRate reads it ("off" for 0).
func FormatRate(n int64) string {
	switch {
	case n == 0:
		return RateOff
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// RateSlot is one entry of a RateSchedule: from Day (time.Weekday, or -1
// for every day) at Minute (0-1439 after midnight, local time) the rate
// is Rate bytes per second (0: no limit) until the next entry.
type RateSlot struct {
	Day    int
	Minute int
	Rate   int64
}

// RateSchedule is a bandwidth timetable in rclone's --bwlimit format:
// "08:00,512KiB 18:00,off" (every day: 512 KiB/s from 08:00, no limit from
// 18:00), or with days, "Mon-08:00,512KiB Sat-00:00,off". Entries are
// separated by spaces or ';'. Before the first entry of a day (or week)
// the last one still applies: the timetable wraps around.
type RateSchedule []RateSlot

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

const minutesPerWeek = 7 * 24 * 60

// ParseRateSchedule parses a timetable ("" is none: nil, no error).
func ParseRateSchedule(s string) (RateSchedule, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ';' || r == '\t' || r == '\n' })
	var out RateSchedule
	seen := map[int]string{}
	for _, f := range fields {
		slot, err := parseSlot(f)
		if err != nil {
			return nil, err
		}
		for _, w := range slot.weekMinutes() {
			if prev, dup := seen[w]; dup {
				return nil, fmt.Errorf("%q and %q start at the same time", prev, f)
			}
			seen[w] = f
		}
		out = append(out, slot)
	}
	return out, nil
}

func parseSlot(f string) (RateSlot, error) {
	when, rate, ok := strings.Cut(f, ",")
	if !ok {
		return RateSlot{}, fmt.Errorf("%q is not a timetable entry: write HH:MM,RATE or Ddd-HH:MM,RATE (e.g. 08:00,512KiB or Mon-18:00,off); a fixed cap is EDGE_DROP_MAX_RATE", f)
	}
	slot := RateSlot{Day: -1}
	if d, hm, ok := strings.Cut(when, "-"); ok {
		slot.Day = slices.Index(weekdays, strings.ToLower(d))
		if slot.Day < 0 {
			return RateSlot{}, fmt.Errorf("%q: %q is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)", f, d)
		}
		when = hm
	}
	t, err := time.Parse("15:04", when)
	if err != nil || len(when) != 5 {
		return RateSlot{}, fmt.Errorf("%q: %q is not a time of day (HH:MM, 00:00 to 23:59)", f, when)
	}
	slot.Minute = t.Hour()*60 + t.Minute()
	if slot.Rate, err = ParseRate(rate); err != nil {
		return RateSlot{}, fmt.Errorf("%q: %w", f, err)
	}
	return slot, nil
}

// weekMinutes are the minutes of the week (from Sunday 00:00) at which the
// slot starts: one, or seven for an every-day entry.
func (s RateSlot) weekMinutes() []int {
	if s.Day >= 0 {
		return []int{s.Day*24*60 + s.Minute}
	}
	out := make([]int, 7)
	for d := range out {
		out[d] = d*24*60 + s.Minute
	}
	return out
}

// At returns the rate in force at t (in t's location) and when it next
// changes. An empty schedule is no limit, forever (zero time).
func (rs RateSchedule) At(t time.Time) (rate int64, next time.Time) {
	if len(rs) == 0 {
		return 0, time.Time{}
	}
	type start struct {
		w    int
		rate int64
	}
	var starts []start
	for _, s := range rs {
		for _, w := range s.weekMinutes() {
			starts = append(starts, start{w, s.Rate})
		}
	}
	slices.SortFunc(starts, func(a, b start) int { return a.w - b.w })
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	now := int(t.Weekday())*24*60 + t.Hour()*60 + t.Minute()
	cur := starts[len(starts)-1] // wraps around: before the first start, the last one holds
	nxt := starts[0].w + minutesPerWeek
	for i, s := range starts {
		if s.w <= now {
			cur = s
			continue
		}
		nxt = starts[i].w
		break
	}
	// The next start as a wall-clock time: days and minutes from today's
	// midnight (AddDate keeps wall-clock hours across DST changes).
	ahead := nxt - int(t.Weekday())*24*60
	next = midnight.AddDate(0, 0, ahead/(24*60)).Add(time.Duration(ahead%(24*60)) * time.Minute)
	if !next.After(t) { // a DST gap can put it behind: look again a minute later
		next = t.Truncate(time.Minute).Add(time.Minute)
	}
	return cur.rate, next
}

// String writes the schedule back in its own format.
func (rs RateSchedule) String() string {
	parts := make([]string, len(rs))
	for i, s := range rs {
		day := ""
		if s.Day >= 0 {
			day = strings.ToUpper(weekdays[s.Day][:1]) + weekdays[s.Day][1:] + "-"
		}
		parts[i] = fmt.Sprintf("%s%02d:%02d,%s", day, s.Minute/60, s.Minute%60, FormatRate(s.Rate))
	}
	return strings.Join(parts, " ")
}
