package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/clustersim/clustersim/scenarios/study"
)

// format is an output format flag: table, json or csv.
type format string

var formats = []string{"table", "json", "csv"}

func (f *format) String() string { return string(*f) }
func (f *format) Type() string   { return "format" }
func (f *format) Set(s string) error {
	for _, v := range formats {
		if s == v {
			*f = format(s)
			return nil
		}
	}
	return fmt.Errorf("unknown format %q (valid: %s)", s, strings.Join(formats, ", "))
}

func addFormatFlag(fs *pflag.FlagSet, f *format) {
	*f = "table"
	fs.VarP(f, "format", "f", "output format: table, json or csv")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// num formats a number for tables: three significant figures, an SI
// suffix (k is not used: thousands are grouped) from a million up to 1e18,
// scientific notation beyond.
func num(v float64) string {
	switch a := abs(v); {
	case a == 0:
		return "0"
	case a >= 1e18 || a < 1e-3:
		return fmt.Sprintf("%.3g", v)
	case a >= 1e6:
		for _, u := range []struct {
			f float64
			s string
		}{{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}} {
			if a >= u.f {
				return fmt.Sprintf("%.3g%s", v/u.f, u.s)
			}
		}
		return fmt.Sprintf("%.3g", v)
	case a >= 1000:
		return group(fmt.Sprintf("%.0f", v))
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// group writes a whole number given as text with thousands separators
// (study.Group); other text is returned as it is.
func group(s string) string {
	n, err := strconv.Atoi(s)
	if err != nil {
		return s
	}
	return study.Group(n)
}

// g formats a number for CSV and JSON-like exactness: shortest round trip.
func g(v float64) string { return fmt.Sprintf("%g", v) }
