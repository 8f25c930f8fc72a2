package main

// progress returns a callback for run.Options.Progress that draws a meter
// for a long Monte Carlo run, or nil when stderr is not a terminal.
func (s *streams) progress(what string, total int) func(done, total int) {
	m := newMeter(s)
	if m == nil {
		return nil
	}
	m.start(what, total)
	return func(done, total int) {
		m.set(done)
		if done >= total {
			m.finish()
		}
	}
}
