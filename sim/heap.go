package sim

import (
	"math"
	"math/bits"
)

// item is a heap entry: the ordering key of a pending event and its slot. It
// is kept small (24 bytes) so that sifting moves little memory.
//
// The time is stored as the bits of its float64. Times in the heap are never
// negative (they are at or after Now, which starts at 0) and -0 is stored as
// +0, and for non-negative floats the order of the bit patterns as unsigned
// integers is the order of the numbers. So (tbits, seq) compares as one
// 128-bit unsigned integer, without branches.
type item struct {
	tbits uint64
	seq   uint64
	slot  uint32
}

// key returns the heap key of time t, which must be finite and not negative.
func key(t Time) uint64 {
	return math.Float64bits(float64(t + 0)) // -0 + 0 is +0
}

// time returns the time of it.
func (it *item) time() Time { return Time(math.Float64frombits(it.tbits)) }

// before returns 1 if a fires before b (an earlier time, or the same time and
// scheduled earlier) and 0 if not: the borrow out of the 128-bit subtraction
// a - b.
func before(a, b *item) uint64 {
	_, borrow := bits.Sub64(a.seq, b.seq, 0)
	_, borrow = bits.Sub64(a.tbits, b.tbits, borrow)
	return borrow
}

// The heap is 4-ary: the children of i are 4i+1 … 4i+4 and its parent is
// (i-1)/4. A wider node halves the depth of a binary heap and keeps a node's
// children on one or two cache lines. Every move of an item updates
// Engine.pos for its slot, which is what lets Cancel find it.

// up places x, which belongs at index i or above, moving later parents down
// into the hole.
func (e *Engine) up(i int, x item) {
	h, pos := e.heap, e.pos
	for i > 0 {
		p := (i - 1) / 4
		if before(&x, &h[p]) == 0 {
			break
		}
		h[i] = h[p]
		pos[h[i].slot] = int32(i)
		i = p
	}
	h[i] = x
	pos[x.slot] = int32(i)
}

// down places x, which belongs at index i or below, moving earlier children
// up into the hole.
func (e *Engine) down(i int, x item) {
	h, pos := e.heap, e.pos
	n := len(h)
	for {
		c := 4*i + 1
		var m int
		if c+3 < n {
			// Full node, the common case: a tournament without branches
			// (minOf4, inlined by hand), so random keys cost no
			// mispredictions.
			q := h[c : c+4 : c+4]
			a := before(&q[1], &q[0])     // 0 or 1
			b := 2 + before(&q[3], &q[2]) // 2 or 3
			w := before(&q[b], &q[a])
			m = c + int(a^(a^b)&-w) // b if w == 1, else a
		} else if c < n {
			m = c
			for j := c + 1; j < n; j++ {
				if before(&h[j], &h[m]) != 0 {
					m = j
				}
			}
		} else {
			break
		}
		if before(&h[m], &x) == 0 {
			break
		}
		h[i] = h[m]
		pos[h[i].slot] = int32(i)
		i = m
	}
	h[i] = x
	pos[x.slot] = int32(i)
}

// popRoot removes the earliest event from the heap.
func (e *Engine) popRoot() {
	n := len(e.heap) - 1
	last := e.heap[n]
	e.heap = e.heap[:n]
	if n > 0 {
		e.down(0, last)
	}
}

// remove deletes the item at index i from the heap.
func (e *Engine) remove(i int) {
	n := len(e.heap) - 1
	last := e.heap[n]
	e.heap = e.heap[:n]
	if i == n {
		return
	}
	if i > 0 && before(&last, &e.heap[(i-1)/4]) != 0 {
		e.up(i, last)
	} else {
		e.down(i, last)
	}
}
