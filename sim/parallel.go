package sim

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Parallel calls f(i) for every i in 0..n−1 on at most workers goroutines
// (GOMAXPROCS when workers <= 0), in no particular order, and returns when
// the calls are done or, once ctx is done, when the calls under way are.
// It is the concurrency the package allows: independent simulations, one
// engine each. f writes only what belongs to its i, so that what the calls
// compute does not depend on how many goroutines ran them.
func Parallel(ctx context.Context, n, workers int, f func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
