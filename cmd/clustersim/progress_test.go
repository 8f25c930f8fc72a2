package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	// Not a terminal: no progress, and a nil progress does nothing.
	var buf bytes.Buffer
	p := newProgress(&streams{err: &buf})
	if p != nil {
		t.Fatal("progress on a non-terminal")
	}
	p.begin("x", 3)
	p.set(1)
	p.step()
	p.end()
	if opt := p.trials("x"); opt.Progress != nil {
		t.Error("trial progress on a non-terminal")
	}
	// A terminal: a bar once the work has run for progressDelay.
	p = newProgress(&streams{err: &buf, tty: true})
	opt := p.trials("trials")
	opt.Progress(1, 10)
	if buf.Len() != 0 {
		t.Errorf("bar drawn before the delay: %q", buf.String())
	}
	p.mu.Lock()
	p.since = time.Now().Add(-2 * progressDelay)
	p.mu.Unlock()
	opt.Progress(5, 10)
	p.end()
	if !strings.Contains(buf.String(), "trials") {
		t.Errorf("no bar: %q", buf.String())
	}
}
