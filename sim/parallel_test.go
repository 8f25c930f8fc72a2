package sim

import (
	"context"
	"sync/atomic"
	"testing"
)

// TestParallel: every index is called once, whatever the number of
// workers; a done context stops the calls.
func TestParallel(t *testing.T) {
	for _, workers := range []int{0, 1, 3, 100} {
		calls := make([]atomic.Int32, 50)
		Parallel(context.Background(), len(calls), workers, func(i int) { calls[i].Add(1) })
		for i := range calls {
			if n := calls[i].Load(); n != 1 {
				t.Errorf("%d workers: index %d called %d times", workers, i, n)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	Parallel(ctx, 1000, 1, func(i int) {
		if n.Add(1) == 10 {
			cancel()
		}
	})
	if got := n.Load(); got != 10 {
		t.Errorf("%d calls after the context was cancelled at the 10th, want 10", got)
	}
	Parallel(context.Background(), 0, 4, func(int) { t.Error("called with n = 0") })
}
