package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SetFile is the File of an *Error about a --set override.
const SetFile = "--set"

// Error is one problem with a scenario: a YAML syntax error, an unknown or
// duplicate key, a value of the wrong type or out of range, or a layout that
// is inconsistent or does not fit in memory. Load reports every problem at
// once, joined with errors.Join and sorted by line; use errors.As to tell
// bad input (an *Error) from other failures.
type Error struct {
	File   string // the scenario file, "builtin/NAME.yaml", or SetFile for a --set override
	Line   int    // 1-based; 0 when unknown (and for --set)
	Column int    // 1-based; 0 when unknown
	Key    string // the dotted key, e.g. "parallelism.pp" or "phases.0.tokens"; may be empty
	Msg    string // what is wrong and what would be valid

	set int // 1 + the index of the --set override the error is about; 0 for the file
}

// Error formats the problem as "file:line: key: msg", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// errorList collects *Errors and joins them, sorted, without duplicates.
type errorList []*Error

func (l *errorList) add(e *Error) { *l = append(*l, e) }

func (l errorList) err() error {
	if len(l) == 0 {
		return nil
	}
	s := slices.Clone(l)
	slices.SortStableFunc(s, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.set, b.set),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.Key, b.Key),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	s = slices.CompactFunc(s, func(a, b *Error) bool { return *a == *b })
	errs := make([]error, len(s))
	for i, e := range s {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// suggest returns ` (did you mean "x"?)` when one of valid is close to s.
func suggest(s string, valid []string) string {
	for _, v := range valid {
		// A family name without its variant, e.g. h100 for h100-sxm, even
		// where another name is fewer edits away (h800).
		if len(s) >= 3 && strings.HasPrefix(strings.ToLower(v), strings.ToLower(s)+"-") {
			return fmt.Sprintf(" (did you mean %q?)", v)
		}
	}
	best, bestD := "", 1<<30
	for _, v := range valid {
		d := editDistance(strings.ToLower(s), strings.ToLower(v))
		if d < bestD {
			best, bestD = v, d
		}
	}
	if best == "" {
		return ""
	}
	limit := max(1, len([]rune(s))/3)
	close := bestD <= limit
	if !close && len(s) >= 3 {
		// A prefix, e.g. global_batch_size for global_batch.
		for _, v := range valid {
			if strings.HasPrefix(s, v) || strings.HasPrefix(v, s) {
				best, close = v, true
				break
			}
		}
	}
	if !close {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return max(len(ra), len(rb))
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// oneOf says what the valid names are, with a suggestion when one is close.
func oneOf(kind, got string, valid []string) string {
	return fmt.Sprintf("unknown %s %q%s; valid: %s", kind, got, suggest(got, valid), strings.Join(valid, ", "))
}
