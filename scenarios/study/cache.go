package study

import (
	"context"
	"sync"

	"github.com/clustersim/clustersim/sim/step"
)

// StepCache shares simulated steps between runs: points of a sweep that
// differ only in what the step does not depend on (failure rates, restart
// and checkpoint inputs, trials) simulate their step once. The key is the
// whole step spec (model, cluster, layout, training, noise, seed,
// samples), so a shared step is exactly the one the run would have
// simulated itself. Safe for concurrent use; its zero value is ready.
type StepCache struct {
	mu      sync.Mutex
	entries map[step.Spec]*stepEntry
	hits    int
	misses  int
}

type stepEntry struct {
	done chan struct{}
	res  step.Result
	err  error
}

// Simulate returns the step of s, simulating it on the first request and
// sharing it afterwards; concurrent requests for the same step wait for
// the first. A step stopped by its context is not kept.
func (c *StepCache) Simulate(ctx context.Context, s step.Spec) (step.Result, error) {
	if s.Trace {
		return step.Simulate(ctx, s)
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[step.Spec]*stepEntry{}
	}
	if e, ok := c.entries[s]; ok {
		c.hits++
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return step.Result{}, ctx.Err()
		}
		if e.err != nil && ctx.Err() == nil && isContextErr(e.err) {
			return c.Simulate(ctx, s) // the first requester was interrupted
		}
		return e.res, e.err
	}
	e := &stepEntry{done: make(chan struct{})}
	c.entries[s] = e
	c.misses++
	c.mu.Unlock()
	e.res, e.err = step.Simulate(ctx, s)
	if e.err != nil && isContextErr(e.err) {
		c.mu.Lock()
		delete(c.entries, s)
		c.mu.Unlock()
	}
	close(e.done)
	return e.res, e.err
}

// Stats returns the requests answered from the cache and the steps
// simulated.
func (c *StepCache) Stats() (hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

func isContextErr(err error) bool {
	return err == context.Canceled || err == context.DeadlineExceeded || errorsIsContext(err)
}
