package study

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"
)

func TestSplitValues(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"4096,8192, 16384", []string{"4096", "8192", "16384"}},
		{"1", []string{"1"}},
		{`"a,b",c`, []string{`"a,b"`, "c"}},
		{"{cv: 0, samples: 2},{cv: 0.02}", []string{"{cv: 0, samples: 2}", "{cv: 0.02}"}},
		{"[1, 2],3", []string{"[1, 2]", "3"}},
	} {
		if got := SplitValues(c.in); !slices.Equal(got, c.want) {
			t.Errorf("SplitValues(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestShardPoints(t *testing.T) {
	// 10 points in 3 shards: indexes 0,3,6,9 / 1,4,7 / 2,5,8.
	for i, want := range []int{4, 3, 3} {
		if got := ShardPoints(10, i, 3); got != want {
			t.Errorf("ShardPoints(10, %d, 3) = %d, want %d", i, got, want)
		}
	}
	if got := ShardPoints(2, 3, 4); got != 0 {
		t.Errorf("ShardPoints(2, 3, 4) = %d, want 0", got)
	}
}

func TestDefineInputErrors(t *testing.T) {
	for _, sets := range [][]string{{"cluster.gpus"}, {"trials=1,"}, {"trials=1", "trials=2"}, {}} {
		_, err := Define("llama3-8b", nil, sets)
		if _, ok := err.(*InputError); !ok {
			t.Errorf("Define(%q): %v, want an *InputError", sets, err)
		}
	}
}

// TestSharedStepsSameBytes runs a sweep whose points share steps (3
// restart times × 2 GPU counts: 2 distinct steps) with and without the
// step cache: the JSON of every row must be identical, and the cache must
// have simulated 2 steps for the 6 points.
func TestSharedStepsSameBytes(t *testing.T) {
	def, err := Define("llama3-8b", []string{"trials=3"}, []string{"cluster.gpus=256,512", "failures.restart=5m,15m,60m"})
	if err != nil {
		t.Fatal(err)
	}
	shared, err := RunPoints(context.Background(), def, PointOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alone, err := RunPoints(context.Background(), def, PointOptions{NoShare: true})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(shared)
	b, _ := json.Marshal(alone)
	if len(shared) != 6 || !bytes.Equal(a, b) {
		t.Fatalf("%d rows; shared and unshared differ:\n%s\n%s", len(shared), a, b)
	}
	// the restart time changes the days, not the step
	if shared[0].Result.StepTimeS != shared[2].Result.StepTimeS || !(shared[2].Result.WallClockDays > shared[0].Result.WallClockDays) {
		t.Errorf("restart 5m vs 60m: step %g vs %g, days %g vs %g", shared[0].Result.StepTimeS, shared[2].Result.StepTimeS, shared[0].Result.WallClockDays, shared[2].Result.WallClockDays)
	}
}

func TestStepCacheCounts(t *testing.T) {
	def, err := Define("llama3-8b", []string{"trials=2"}, []string{"failures.restart=5m,15m,60m"})
	if err != nil {
		t.Fatal(err)
	}
	var c StepCache
	for k := range 3 {
		spec, _, err := resolvePoint(def, k)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := spec.MainStepSpec()
		if _, err := c.Simulate(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
	if h, m := c.Stats(); h != 2 || m != 1 {
		t.Errorf("hits %d, misses %d; want 2 and 1 (three restart times, one step)", h, m)
	}
}
