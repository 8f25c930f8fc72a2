package main

import (
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/clustersim/clustersim/sim/run"
)

// progressDelay is how long work runs before a bar appears: short runs
// finish without one.
const progressDelay = 400 * time.Millisecond

// progress draws a progress bar on stderr while long work runs, only when
// stderr is a terminal. Its methods may be called from several goroutines;
// a nil *progress does nothing.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	desc  string
	total int
	done  int
	since time.Time
}

// newProgress returns a progress for io, or nil when stderr is not a
// terminal.
func newProgress(io *streams) *progress {
	if io == nil || !io.tty {
		return nil
	}
	return &progress{w: io.err}
}

// begin starts a stage of total units, replacing the previous bar.
func (p *progress) begin(desc string, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.desc, p.total, p.done, p.since = desc, total, 0, time.Now()
}

// set reports done units of the stage.
func (p *progress) set(done int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = max(p.done, done)
	if p.bar == nil && time.Since(p.since) >= progressDelay && p.done < p.total {
		p.bar = progressbar.NewOptions(p.total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetWidth(30))
	}
	if p.bar != nil {
		_ = p.bar.Set(p.done)
	}
}

// step adds one unit.
func (p *progress) step() {
	if p == nil {
		return
	}
	p.mu.Lock()
	d := p.done + 1
	p.mu.Unlock()
	p.set(d)
}

// end clears the bar.
func (p *progress) end() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func (p *progress) clear() {
	if p.bar != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
		p.bar = nil
	}
}

// trials returns run options that report a Monte Carlo run's trials as a
// stage named desc.
func (p *progress) trials(desc string) run.Options {
	if p == nil {
		return run.Options{}
	}
	first := sync.Once{}
	return run.Options{Progress: func(done, total int) {
		first.Do(func() { p.begin(desc, total) })
		p.set(done)
	}}
}
