package main

import (
	"sync"

	"github.com/schollz/progressbar/v3"
)

// progress returns a callback that draws a progress bar on stderr for a
// long Monte Carlo run or sweep, or nil when stderr is not a terminal (or
// the work is too small to need one).
func (s *streams) progress(what string, total int) func(done, total int) {
	if !s.tty || total < 50 {
		return nil
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(s.err),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100_000_000),
	)
	var mu sync.Mutex
	return func(done, _ int) {
		mu.Lock()
		defer mu.Unlock()
		_ = bar.Set(done)
		if done == total {
			_ = bar.Finish()
		}
	}
}
