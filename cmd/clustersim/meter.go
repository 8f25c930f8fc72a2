package main

import (
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// meter is a progress bar on stderr for plan and sweep, drawn only when
// stderr is a terminal and the work outlasts meterDelay. A nil *meter does
// nothing; its methods may be called from several goroutines.
type meter struct {
	io    *streams
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	desc  string
	total int
	since time.Time
}

// meterDelay is how long work runs before its bar appears.
const meterDelay = 300 * time.Millisecond

func newMeter(io *streams) *meter {
	if !io.tty {
		return nil
	}
	return &meter{io: io}
}

// start begins counting total units of work described by desc.
func (m *meter) start(desc string, total int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.desc, m.total, m.since = desc, total, time.Now()
}

// set reports done units.
func (m *meter) set(done int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bar == nil {
		if m.total == 0 || time.Since(m.since) < meterDelay || done >= m.total {
			return
		}
		m.bar = progressbar.NewOptions(m.total,
			progressbar.OptionSetWriter(m.io.err),
			progressbar.OptionSetDescription(m.desc),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetWidth(30))
	}
	_ = m.bar.Set(done)
}

// finish clears the bar.
func (m *meter) finish() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bar != nil {
		_ = m.bar.Finish()
		_ = m.bar.Clear()
		m.bar = nil
	}
}
