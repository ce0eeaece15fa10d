package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/edge-drop/edge-drop/contract"
)

// MinFree is the free space a delivery must leave on the data dir's file
// system: a size, a percentage of the file system's size, or the smaller
// of both. The zero value is no floor.
type MinFree struct {
	Bytes   int64   // 0: none
	Percent float64 // 0: none
}

// MaxMinFreePercent bounds the percentage: a floor above half the card
// would refuse nearly every delivery.
const MaxMinFreePercent = 50

// ParseMinFree parses "256MiB", "5%", "5%,256MiB" (the smaller) or "0".
func ParseMinFree(v string) (MinFree, error) {
	var m MinFree
	if strings.TrimSpace(v) == "0" {
		return m, nil
	}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if p, ok := strings.CutSuffix(part, "%"); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || f <= 0 || f > MaxMinFreePercent || math.IsNaN(f) || m.Percent != 0 {
				return MinFree{}, fmt.Errorf("%q: %q is not one percentage above 0 and at most %d%%", v, part, MaxMinFreePercent)
			}
			m.Percent = f
			continue
		}
		n, err := contract.ParseSize(part)
		if err != nil || n == 0 || m.Bytes != 0 {
			return MinFree{}, fmt.Errorf("%q is not a size (e.g. 256MiB), a percentage (5%%), both (5%%,256MiB: the smaller) or 0", v)
		}
		m.Bytes = n
	}
	return m, nil
}

// Floor is the free space to keep on a file system of total bytes.
func (m MinFree) Floor(total int64) int64 {
	floor := int64(-1)
	if m.Percent > 0 {
		floor = int64(float64(total) * m.Percent / 100)
	}
	if m.Bytes > 0 && (floor < 0 || m.Bytes < floor) {
		floor = m.Bytes
	}
	return max(floor, 0)
}

// String writes it as ParseMinFree reads it.
func (m MinFree) String() string {
	var parts []string
	if m.Percent > 0 {
		parts = append(parts, strconv.FormatFloat(m.Percent, 'f', -1, 64)+"%")
	}
	if m.Bytes > 0 {
		parts = append(parts, contract.FormatRate(m.Bytes))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ",")
}
