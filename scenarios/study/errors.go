package study

import (
	"context"
	"errors"
	"fmt"
)

// InputError is bad input to a study (a malformed --set list, nothing to
// sweep): the caller's usage error.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputf(format string, args ...any) error { return &InputError{fmt.Sprintf(format, args...)} }

// FlattenErrors unwraps joined errors into a list.
func FlattenErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, FlattenErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// shortError keeps the first of joined errors, for notes.
func shortError(err error) error {
	if err == nil {
		return nil
	}
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) && len(j.Unwrap()) > 0 {
		return j.Unwrap()[0]
	}
	return err
}

func errorsIsContext(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
