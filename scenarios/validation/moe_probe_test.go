package validation

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/clustersim/clustersim/sim/step"
)

// TestMoEProbe prints the MoE rows (run with MOEPROBE=1).
func TestMoEProbe(t *testing.T) {
	if os.Getenv("MOEPROBE") == "" {
		t.Skip()
	}
	var cs []Case
	for _, c := range Suite() {
		if strings.Contains(c.Group, "-moe") && (os.Getenv("MOEFILTER") == "" || strings.Contains(c.Name, os.Getenv("MOEFILTER"))) {
			cs = append(cs, c)
		}
	}
	rows, err := Run(context.Background(), cs)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Case < rows[j].Case })
	sum, n := 0.0, 0
	for _, r := range rows {
		fmt.Printf("%-55s %8.3f %8.3f %+6.1f%% %s\n", r.Case, r.Published, r.Predicted, r.ErrorPct, r.Status)
		if r.Modelled() {
			sum += abs(r.ErrorPct)
			n++
		}
	}
	fmt.Printf("MoE rows: %d modelled, mean |error| %.1f%%\n", n, sum/float64(max(n, 1)))
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestGroupProbe(t *testing.T) {
	if os.Getenv("MOEPROBE") == "" {
		t.Skip()
	}
	groups, all := Groups(allRows(t))
	for _, g := range append(groups, all) {
		fmt.Printf("%-40s compared %4d mae %5.1f unmodelled %3d refused %d worst %+.1f %s\n", g.Group, g.Compared, g.MAE, g.Unmodelled, g.Refused, g.Worst.ErrorPct, g.Worst.Case)
	}
}

// TestLayerProbe prints the MoE layer schedule of the rows MOEFILTER names
// (run with MOEPROBE=1).
func TestLayerProbe(t *testing.T) {
	if os.Getenv("MOEPROBE") == "" || os.Getenv("MOEFILTER") == "" {
		t.Skip()
	}
	for _, c := range Suite() {
		if !strings.Contains(c.Group, "-moe") || !strings.Contains(c.Name, os.Getenv("MOEFILTER")) || c.Spec == nil {
			continue
		}
		sp, err := c.Spec()
		if err != nil {
			t.Log(c.Name, err)
			continue
		}
		st := sp.Step
		st.Trace = true
		res, err := step.Simulate(context.Background(), st)
		if err != nil {
			t.Log(c.Name, err)
			continue
		}
		l := sp.Step.Layout
		fmt.Printf("== %s step %.2f layout tp%d pp%d vp%d ep%d mb%d recompute %v breakdown %+v\n", c.Name, res.StepTime, l.TP, l.PP, l.VirtualStages, l.EP, l.MicroBatch, l.Recompute, res.Breakdown)
		for _, d := range [][]step.LayerTask{res.Timeline.LayerForward, res.Timeline.LayerBackward} {
			end := 0.0
			for _, x := range d {
				fmt.Printf("   %-8s %-40s %8.1f us\n", x.Stream, x.Name, (x.End-x.Start)*1e6)
				end = max(end, x.End)
			}
			fmt.Printf("   total %.1f us\n", end*1e6)
		}
		break
	}
}

// TestDeepSeekProbe prints the deepseek-v3 built-in's stages (MOEPROBE=1).
func TestDeepSeekProbe(t *testing.T) {
	if os.Getenv("MOEPROBE") == "" {
		t.Skip()
	}
	sp, err := builtin("deepseek-v3")()
	if err != nil {
		t.Fatal(err)
	}
	st := sp.Step
	st.Trace = true
	res, err := step.Simulate(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	busy := make([]float64, res.Timeline.Stages)
	n := make([]int, res.Timeline.Stages)
	for _, s := range res.Timeline.Spans {
		if s.Stream == "compute" {
			busy[s.Stage] += s.End - s.Start
			n[s.Stage]++
		}
	}
	fmt.Printf("step %.2f noiseless %.2f chunks %v\n", res.StepTime, res.NoiselessStepTime, res.Timeline.ChunkLayers)
	for r := range busy {
		fmt.Printf("stage %2d busy %.2f s over %d spans\n", r, busy[r], n[r])
	}
	for _, d := range [][]step.LayerTask{res.Timeline.LayerForward, res.Timeline.LayerBackward} {
		end := 0.0
		for _, x := range d {
			fmt.Printf("   %-8s %-40s %8.1f us\n", x.Stream, x.Name, (x.End-x.Start)*1e6)
			end = max(end, x.End)
		}
		fmt.Printf("   total %.1f us\n", end*1e6)
	}
}
