package validation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// suiteRows runs every case once for all the tests that read the results.
var suiteRows = sync.OnceValues(func() ([]Row, error) {
	return Run(context.Background(), All())
})

func allRows(t *testing.T) []Row {
	t.Helper()
	rows, err := suiteRows()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestReferenceCopies checks the embedded reference files: always against
// their SHA-256 sums recorded in testdata/reference.sha256 (so that a fresh
// clone without the shared folder still checks them), and, where the shared
// folder sits beside the checkout (../shared/reference; CI always has it),
// byte for byte against the shared files, none missing.
func TestReferenceCopies(t *testing.T) {
	sums, err := os.ReadFile(filepath.Join("testdata", "reference.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("testdata/reference.sha256: bad line %q", line)
		}
		listed = append(listed, name)
		b, err := ReferenceFile(name)
		if err != nil {
			t.Errorf("%s: not embedded: %v", name, err)
			continue
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != sum {
			t.Errorf("%s: embedded copy has SHA-256 %s, recorded %s", name, got, sum)
		}
	}
	if got := ReferenceFiles(); !slices.Equal(got, listed) {
		t.Errorf("embedded files %q, recorded %q", got, listed)
	}
	shared := filepath.Join("..", "..", "..", "shared", "reference")
	if _, err := os.Stat(shared); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the shared reference folder is missing: %v", err)
		}
		t.Logf("no shared reference folder (%v): checked against the recorded sums only", err)
		return
	}
	var want []string
	err = filepath.WalkDir(shared, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(shared, p)
		want = append(want, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	if got := ReferenceFiles(); !slices.Equal(got, want) {
		t.Errorf("embedded files %q, shared files %q: copy them verbatim into reference/", got, want)
	}
	for _, f := range want {
		shared, err := os.ReadFile(filepath.Join(shared, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		embedded, err := ReferenceFile(f)
		if err != nil {
			t.Errorf("%s: not embedded: %v", f, err)
			continue
		}
		if !bytes.Equal(embedded, shared) {
			t.Errorf("%s: the embedded copy differs from the shared file: copy it again, byte for byte", f)
		}
	}
}

// TestReferenceCounts checks the parsed row counts against the files
// (counted with wc -l less the header for the CSVs, and the "- id:" entries
// of measured.yaml).
func TestReferenceCounts(t *testing.T) {
	m, err := loadMeasured()
	if err != nil {
		t.Fatal(err)
	}
	single, err := loadVTrain(vtrainSingle)
	if err != nil {
		t.Fatal(err)
	}
	multi, err := loadVTrain(vtrainMulti)
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadPublished()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"measured.yaml rows", len(m), 274},
		{"vTrain single-node rows", len(single), 1440},
		{"vTrain multi-node rows", len(multi), 73},
		{"Llama 3 Table 4 rows", len(p.Table4.Rows), 3},
		{"SC21 Table 1 rows", len(p.SC21.Rows), 10},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	// The BOM is gone from the first header and the CR from the last field.
	if single[0].IterationMS != 372.160408 || multi[len(multi)-1].ParamsB != 39.1 {
		t.Errorf("first single row %+v, last multi row %+v", single[0], multi[len(multi)-1])
	}
}

// TestGroups holds the number of cases per group, counted from the data
// (a Python tally of measured.yaml by source, gpu and precision; the
// vTrain files' row counts).
func TestGroups(t *testing.T) {
	want := map[string]int{
		GroupLlama3Table4: 3, GroupLlama3Rel: 1, GroupLlama3Card: 1, GroupMegatron: 10,
		"nemo24.07/h100/fp8": 12, "nemo24.03-longctx/h100/fp8": 9,
		// Dense rows, and the MoE rows in their own groups (issue 11).
		"megatron-bridge/h100/fp8": 13, "megatron-bridge/b200/fp8": 4, "megatron-bridge/b200/mxfp8": 4,
		"megatron-bridge/gb200/fp8": 15, "megatron-bridge/gb200/mxfp8": 13, "megatron-bridge/gb200/nvfp4": 9,
		"megatron-bridge/gb300/fp8": 12, "megatron-bridge/gb300/mxfp8": 10, "megatron-bridge/gb300/nvfp4": 9,
		"megatron-bridge-moe/h100/fp8": 18, "megatron-bridge-moe/h100/bf16": 5,
		"megatron-bridge-moe/b200/fp8": 3, "megatron-bridge-moe/b200/bf16": 5, "megatron-bridge-moe/b200/mxfp8": 18, "megatron-bridge-moe/b200/nvfp4": 2,
		"megatron-bridge-moe/gb200/fp8": 3, "megatron-bridge-moe/gb200/bf16": 7, "megatron-bridge-moe/gb200/mxfp8": 42, "megatron-bridge-moe/gb200/nvfp4": 5,
		"megatron-bridge-moe/gb300/bf16": 7, "megatron-bridge-moe/gb300/mxfp8": 44, "megatron-bridge-moe/gb300/nvfp4": 5,
		GroupDeepSeek:             1,
		"vtrain-single/a100/bf16": 1440, "vtrain-multi/a100/bf16": 73,
	}
	got := map[string]int{}
	names := map[string]bool{}
	for _, c := range All() {
		got[c.Group]++
		if names[c.Name] {
			t.Errorf("two cases named %q", c.Name)
		}
		names[c.Name] = true
	}
	for g, n := range want {
		if got[g] != n {
			t.Errorf("group %s: %d cases, want %d", g, got[g], n)
		}
	}
	for g := range got {
		if _, ok := want[g]; !ok {
			t.Errorf("unexpected group %s", g)
		}
	}
}

func findCase(t *testing.T, cs []Case, name string) Case {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %q", name)
	return Case{}
}

// TestRecipes checks the mapping of a few rows, by hand from the data
// files and the recipes in the package doc.
func TestRecipes(t *testing.T) {
	suite := Suite()
	type want struct {
		gpus, gpn, tp, pp, cp, dp, micro, v, batch, seq int
		zero                                            int
		sp, tpOverlap, dpOverlap                        bool
		recompute, precision, attention, accumulation   string
		gradBytes                                       int
		layers, hidden, ffn, heads, kv, vocab           int
		tied                                            bool
		published                                       float64
	}
	for _, c := range []struct {
		name string
		want want
	}{
		// measured.yaml: tp 2 (so SP and TP overlap), micro 1, pp 1 of
		// 8 GPUs; Llama 2 70B inline, fp8; step_time_s 4.799.
		{"nemo2407-llama2-70b-64", want{gpus: 64, gpn: 8, tp: 4, pp: 4, cp: 1, dp: 4, micro: 1, v: 20, batch: 128, seq: 4096, zero: 1,
			sp: true, tpOverlap: true, dpOverlap: true, recompute: "none", precision: "fp8", attention: "flash", accumulation: "fused", gradBytes: 2,
			layers: 80, hidden: 8192, ffn: 28672, heads: 64, kv: 8, vocab: 32000, published: 4.799}},
		// fsdp: 8 → ZeRO 3; tp 1 → no SP, no TP overlap; vp null → 1.
		{"mb2511-h100-llama38b-fp8-8", want{gpus: 8, gpn: 8, tp: 1, pp: 1, cp: 1, dp: 8, micro: 1, v: 1, batch: 128, seq: 8192, zero: 3,
			dpOverlap: true, recompute: "none", precision: "fp8", attention: "flash", accumulation: "fused", gradBytes: 2,
			layers: 32, hidden: 4096, ffn: 14336, heads: 32, kv: 8, vocab: 128256, published: 9.07}},
		// Long context: micro_batch null → 1, dp 4 from the row; FlashAttention-2; the step
		// time from 730 model TFLOPS/GPU: per token 32·4096²·(12 + 12 +
		// 18·11008/4096 + 12·8192/4096 + 6·32000/(32·4096)) = 5.2527e10
		// FLOPs, × 8192 × 512 / (730e12 × 8 GPUs) = 37.725 s.
		{"nemo-longseq-llama2-7b-8k", want{gpus: 8, gpn: 8, tp: 1, pp: 2, cp: 1, dp: 4, micro: 1, v: 1, batch: 512, seq: 8192, zero: 1,
			dpOverlap: true, recompute: "none", precision: "fp8", attention: "flash2", accumulation: "fused", gradBytes: 2,
			layers: 32, hidden: 4096, ffn: 11008, heads: 32, kv: 32, vocab: 32000, published: 37.72529827521298}},
		// ground_truth_single.csv line 2: "2,16,8,1024,16,24,1024,1,1,2,372.160408".
		{"vtrain-single:2 h1024 L24 a16 s1024, 2 GPUs tp1 pp2 dp1, micro 8 of 16", want{gpus: 2, gpn: 2, tp: 1, pp: 2, cp: 1, dp: 1, micro: 8, v: 1, batch: 16, seq: 1024,
			recompute: "full", precision: "bf16", attention: "unfused", accumulation: "separate", gradBytes: 2,
			layers: 24, hidden: 1024, ffn: 4096, heads: 16, kv: 16, vocab: 50257, tied: true, published: 0.372160408}},
		// ground_truth_multi_visible.csv line 4: "3.6,64,512,8,3072,32,30,2048,2,32,1,3975.2".
		{"vtrain-multi:4 h3072 L30 a32 s2048, 64 GPUs tp2 pp1 dp32, micro 8 of 512", want{gpus: 64, gpn: 8, tp: 2, pp: 1, cp: 1, dp: 32, micro: 8, v: 1, batch: 512, seq: 2048,
			recompute: "full", precision: "bf16", attention: "unfused", accumulation: "separate", gradBytes: 2,
			layers: 30, hidden: 3072, ffn: 12288, heads: 32, kv: 32, vocab: 50257, tied: true, published: 3.9752}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cs := findCase(t, suite, c.name)
			w := c.want
			if p := cs.Metrics[0].Published; math.Abs(p/w.published-1) > 1e-12 {
				t.Errorf("published %v, want %v", p, w.published)
			}
			spec, err := cs.Spec()
			if err != nil {
				t.Fatal(err)
			}
			s := spec.Step
			l, tr, a := s.Layout, s.Training, s.Arch
			got := want{gpus: s.Cluster.GPUs, gpn: s.Cluster.GPUsPerNode, tp: l.TP, pp: l.PP, cp: l.CP, dp: l.DP, micro: l.MicroBatch, v: l.VirtualStages,
				batch: tr.GlobalBatch, seq: tr.SeqLen, zero: l.ZeRO, sp: l.SequenceParallel, tpOverlap: l.TPOverlap, dpOverlap: l.DPOverlap,
				recompute: l.Recompute.String(), precision: tr.Precision.String(), attention: fmt.Sprint(tr.Attention), accumulation: fmt.Sprint(tr.GradAccumulation),
				gradBytes: tr.GradBytes, layers: a.Layers, hidden: a.Hidden, ffn: a.FFNHidden, heads: a.Heads, kv: a.KVHeads, vocab: a.Vocab, tied: a.TiedEmbeddings,
				published: w.published}
			if got != w {
				t.Errorf("spec\n got %+v\nwant %+v", got, w)
			}
		})
	}
}

// TestStatuses checks that rows the model cannot take are listed with the
// reason, not dropped.
func TestStatuses(t *testing.T) {
	rows := allRows(t)
	if n := len(rows); n != 1809 { // 6 + 3 + 2 + 10 + 1 (DeepSeek-V3) headline metrics, 274 + 1,440 + 73 suite rows
		t.Errorf("%d rows, want 1809", n)
	}
	for _, c := range []struct{ caseName, status string }{
		{"mb2608-gb300-nemotron3nano-mxfp8-8", "unmodelled: hybrid Mamba-Transformer MoE (Nemotron 3): Mamba layers not modelled"},
		// The source footnotes these two cells as a known regression.
		{"mb260601-gb300-gptoss120b-mxfp8-64", "unmodelled: the source footnotes this figure as a known performance regression"},
		{"mb260601-gb200-gptoss120b-mxfp8-64", "unmodelled: the source footnotes this figure as a known performance regression"},
	} {
		for _, r := range rows {
			if r.Case == c.caseName && !strings.HasPrefix(r.Status, c.status) {
				t.Errorf("%s: status %q, want prefix %q", r.Case, r.Status, c.status)
			}
		}
	}
	for _, r := range rows {
		if r.Modelled() == math.IsNaN(r.Predicted) {
			t.Errorf("%s: status %q with prediction %v", r.Case, r.Status, r.Predicted)
		}
		if r.Group == "" || r.Source == "" || r.Published <= 0 || math.IsInf(r.Predicted, 0) {
			t.Errorf("row %+v", r)
		}
	}
	// JSON: every contract key, null for a missing prediction.
	b, err := json.Marshal(rows[len(rows)-1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"case", "metric", "published", "predicted", "error_pct", "source", "group", "by_construction"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	r := Row{Case: "x", Predicted: math.NaN(), ErrorPct: math.NaN(), Status: "refused: y"}
	if b, err := json.Marshal(r); err != nil || !bytes.Contains(b, []byte(`"predicted":null,"error_pct":null`)) {
		t.Errorf("unmodelled row as JSON: %s, %v", b, err)
	}
}

// TestSpearman checks the rank correlation on hand-computed examples.
func TestSpearman(t *testing.T) {
	for _, c := range []struct {
		name string
		x, y []float64
		want float64
	}{
		{"monotone", []float64{1, 2, 3, 4}, []float64{10, 20, 25, 100}, 1},
		{"reversed", []float64{1, 2, 3}, []float64{3, 2, 1}, -1},
		// Ranks of y with the tie averaged: 1, 2, 3.5, 5, 3.5. Deviations
		// from the mean rank 3: x -2 -1 0 1 2, y -2 -1 0.5 2 0.5; Σdxdy = 8,
		// Σdx² = 10, Σdy² = 9.5: ρ = 8/√95 = 0.820783.
		{"tie", []float64{1, 2, 3, 4, 5}, []float64{5, 6, 7, 8, 7}, 8 / math.Sqrt(95)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Spearman(c.x, c.y); math.Abs(got-c.want) > 1e-12 {
				t.Errorf("Spearman = %v, want %v", got, c.want)
			}
		})
	}
	if !math.IsNaN(Spearman([]float64{1}, []float64{2})) {
		t.Error("Spearman of one pair is not NaN")
	}
}

// TestValidation runs every case and holds the predictions to the accuracy
// clustersim reaches today, so that a change that makes them worse fails.
// The figures and their sources are in Cases; the README discusses the
// misses.
func TestValidation(t *testing.T) {
	rows := allRows(t)
	get := func(casePrefix, metric string) Row {
		t.Helper()
		for _, r := range rows {
			if strings.HasPrefix(r.Case, casePrefix) && r.Metric == metric {
				return r
			}
		}
		t.Fatalf("no row %s / %s", casePrefix, metric)
		return Row{}
	}
	// Megatron SC21 Table 1: each row within ±10%, mean absolute error ≤ 5%.
	mae, worst := Summary(rows, "megatron", "hardware_tflops_per_gpu")
	n := 0
	for _, r := range rows {
		if strings.HasPrefix(r.Case, "megatron") {
			n++
			if math.Abs(r.ErrorPct) > 10 {
				t.Errorf("%s: %+.1f%%", r.Case, r.ErrorPct)
			}
		}
	}
	if n != 10 || mae > 5 {
		t.Errorf("%d Megatron rows, mean absolute error %.2f%% (worst %s %+.1f%%)", n, mae, worst.Case, worst.ErrorPct)
	}
	// Llama 3 Table 4: 430, 400, 380 TFLOPS/GPU in that order. The 8K
	// recipe's rows are 9-11% high today (see README, Accuracy): hold them
	// within issue 8's worst-row bound, 12%, and the 128K row within 5%.
	r1, r2, r3 := get("llama3-405b 8K GPUs", "tflops_per_gpu"), get("llama3-405b 16K GPUs (", "tflops_per_gpu"), get("llama3-405b 16K GPUs, 128K", "tflops_per_gpu")
	if !(r1.Predicted > r2.Predicted && r2.Predicted > r3.Predicted) {
		t.Errorf("Table 4 order lost: %.0f, %.0f, %.0f", r1.Predicted, r2.Predicted, r3.Predicted)
	}
	for _, c := range []struct {
		r   Row
		tol float64
	}{{r1, 12}, {r2, 12}, {r3, 5}} {
		if math.Abs(c.r.ErrorPct) > c.tol {
			t.Errorf("%s: %+.1f%%, want within ±%g%%", c.r.Case, c.r.ErrorPct, c.tol)
		}
	}
	// Reliability: unexpected interruptions per day within ±5% of 419/54,
	// planned within ±10% of 47/54 (both read back from the profile's
	// inputs), effective training time in [0.90, 0.99].
	if r := get("llama3-405b reliability", "unexpected_interruptions_per_day"); math.Abs(r.ErrorPct) > 5 || !r.ByConstruction {
		t.Errorf("unexpected per day %.3f (%+.1f%%), by construction %v", r.Predicted, r.ErrorPct, r.ByConstruction)
	}
	if r := get("llama3-405b reliability", "planned_interruptions_per_day"); math.Abs(r.ErrorPct) > 10 || !r.ByConstruction {
		t.Errorf("planned per day %.3f (%+.1f%%), by construction %v", r.Predicted, r.ErrorPct, r.ByConstruction)
	}
	if r := get("llama3-405b reliability", "ettr"); r.Predicted < 0.90 || r.Predicted > 0.99 || r.ByConstruction || r.Bound != ">" {
		t.Errorf("ETTR %+v", r)
	}
	// The whole pre-training within ±15% of 30.84M GPU-hours.
	if r := get("llama3-405b pre-training", "gpu_hours"); math.Abs(r.ErrorPct) > 15 {
		t.Errorf("GPU-hours %.4g (%+.1f%%)", r.Predicted, r.ErrorPct)
	}
}

// TestSuiteAccuracy holds every group to the accuracy measured when the
// suite was added (scenarios/validation, December 2026): the mean
// absolute error may grow by at most 2 points, the unmodelled and refused
// counts may not grow, and each vTrain model's rank correlation may drop by
// at most 0.03. Improvements pass; lower the bounds when they land.
func TestSuiteAccuracy(t *testing.T) {
	rows := allRows(t)
	type bound struct {
		mae                 float64 // measured mean |error|, %
		unmodelled, refused int
	}
	want := map[string]bound{
		GroupLlama3Table4:             {8.1, 0, 0}, // row 3 (128K) at +4.5% since the attention fit's per-tile cost
		GroupLlama3Rel:                {0.0, 0, 0},
		GroupLlama3Card:               {7.3, 0, 0},
		GroupMegatron:                 {2.3, 0, 0},
		"nemo24.07/h100/fp8":          {8.6, 0, 0},
		"nemo24.03-longctx/h100/fp8":  {5.6, 0, 0},
		"megatron-bridge/h100/fp8":    {4.1, 0, 0},
		"megatron-bridge/b200/fp8":    {4.7, 0, 0},
		"megatron-bridge/b200/mxfp8":  {3.5, 0, 0},
		"megatron-bridge/gb200/fp8":   {7.5, 0, 0},
		"megatron-bridge/gb200/mxfp8": {6.9, 0, 0},
		"megatron-bridge/gb200/nvfp4": {7.7, 0, 0},
		"megatron-bridge/gb300/fp8":   {6.7, 0, 0},
		"megatron-bridge/gb300/mxfp8": {9.2, 0, 0},
		"megatron-bridge/gb300/nvfp4": {3.1, 0, 1},
		"vtrain-single/a100/bf16":     {7.8, 0, 0},
		"vtrain-multi/a100/bf16":      {8.6, 0, 0},
		// The MoE rows (issue 11), after the grouped-GEMM kernels
		// (multi-stream before container 26.06) and multi-token
		// prediction: still far from the 8% (see the package doc).
		"megatron-bridge-moe/h100/fp8":    {23.5, 4, 0},
		"megatron-bridge-moe/h100/bf16":   {22.1, 0, 0},
		"megatron-bridge-moe/b200/fp8":    {22.6, 0, 0},
		"megatron-bridge-moe/b200/bf16":   {37.8, 0, 0},
		"megatron-bridge-moe/b200/mxfp8":  {17.4, 3, 0},
		"megatron-bridge-moe/gb200/fp8":   {20.0, 0, 0},
		"megatron-bridge-moe/gb200/bf16":  {36.1, 0, 0},
		"megatron-bridge-moe/gb200/mxfp8": {12.0, 14, 1},
		"megatron-bridge-moe/gb300/bf16":  {26.5, 0, 0},
		"megatron-bridge-moe/gb300/mxfp8": {13.8, 14, 0},
		GroupDeepSeek:                     {29.8, 0, 0},
		"all":                             {8.5, 47, 2}, // with the MoE rows; the dense groups above are unchanged
	}
	groups, all := Groups(rows)
	for _, g := range append(groups, all) {
		b, ok := want[g.Group]
		if !ok { // groups with nothing simulated yet: every row unmodelled
			if g.Compared != 0 || g.Refused != 0 {
				t.Errorf("%s: %d compared, %d refused: add its bounds", g.Group, g.Compared, g.Refused)
			}
			continue
		}
		if g.MAE > b.mae+2 || g.Unmodelled > b.unmodelled || g.Refused > b.refused {
			t.Errorf("%s: mean |error| %.1f%% (bound %.1f+2), unmodelled %d (≤ %d), refused %d (≤ %d); worst %+.1f%% %s",
				g.Group, g.MAE, b.mae, g.Unmodelled, b.unmodelled, g.Refused, b.refused, g.Worst.ErrorPct, g.Worst.Case)
		}
	}
	rho := map[string]float64{ // measured Spearman per vTrain model
		"vtrain-multi/a100/bf16 h3072 L30 a32":  0.964,
		"vtrain-multi/a100/bf16 h8192 L48 a64":  0.698,
		"vtrain-single/a100/bf16 h1024 L12 a16": 0.904,
		"vtrain-single/a100/bf16 h1024 L16 a16": 0.897,
		"vtrain-single/a100/bf16 h1024 L20 a16": 0.889,
		"vtrain-single/a100/bf16 h1024 L24 a16": 0.882,
		"vtrain-single/a100/bf16 h2048 L12 a16": 0.960,
		"vtrain-single/a100/bf16 h2048 L16 a16": 0.957,
		"vtrain-single/a100/bf16 h2048 L20 a16": 0.955,
		"vtrain-single/a100/bf16 h2048 L24 a16": 0.951,
	}
	rc := RankCorrelations(rows)
	if len(rc) != len(rho) {
		t.Errorf("%d vTrain models, want %d", len(rc), len(rho))
	}
	for _, c := range rc {
		if w, ok := rho[c.Group+" "+c.Model]; !ok || !(c.Rho >= w-0.03) {
			t.Errorf("%s %s: Spearman %.3f, want ≥ %.3f−0.03", c.Group, c.Model, c.Rho, w)
		}
	}
}

// BenchmarkValidate runs the whole validation, as `clustersim validate`
// does.
func BenchmarkValidate(b *testing.B) {
	cs := All()
	for b.Loop() {
		if _, err := Run(context.Background(), cs); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTable4Builtins checks that the built-in scenarios validated against
// Llama 3 Table 4 have the rows' layouts (published.yaml llama3_table4).
func TestTable4Builtins(t *testing.T) {
	p, err := loadPublished()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range p.Table4.Rows {
		spec, err := builtin(table4Builtins[i])()
		if err != nil {
			t.Fatal(err)
		}
		s := spec.Step
		got := [6]int{s.Cluster.GPUs, s.Layout.TP, s.Layout.CP, s.Layout.PP, s.Layout.DP, s.Training.SeqLen}
		if want := [6]int{r.GPUs, r.TP, r.CP, r.PP, r.DP, r.SeqLen}; got != want {
			t.Errorf("%s: gpus, tp, cp, pp, dp, seq %v, want %v", table4Builtins[i], got, want)
		}
	}
}

// TestBlackwellFit re-derives the Blackwell product efficiencies of the
// catalog (cluster/compute.go) from the suite's dense rows: each must match
// the fit to its rounding (0.005), and the fit's residuals must stay within
// the bounds seen when it was made (every group's median error is zero by
// construction; the spread is what the fit cannot explain).
func TestBlackwellFit(t *testing.T) {
	fits, err := FitEfficiencies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(fits) != 8 { // b200 fp8, mxfp8; gb200 and gb300 fp8, mxfp8, nvfp4
		t.Errorf("%d fitted groups, want 8", len(fits))
	}
	for _, f := range fits {
		g, err := cluster.LookupGPU(f.GPU)
		if err != nil {
			t.Fatal(err)
		}
		var have float64
		switch f.Precision {
		case cluster.FP8:
			have = g.Compute.FP8Efficiency
		case cluster.MXFP8:
			have = g.Compute.MXFP8Efficiency
		case cluster.NVFP4:
			have = g.Compute.FP4Efficiency
		}
		if math.Abs(have-f.Efficiency) > 0.0051 {
			t.Errorf("%s %s: catalog efficiency %.3f, fit %.4f", f.GPU, f.Precision, have, f.Efficiency)
		}
		mae := 0.0
		for _, r := range f.Residuals {
			mae += math.Abs(r)
		}
		mae /= float64(len(f.Residuals))
		if mae > 12 {
			t.Errorf("%s %s: mean |residual| %.1f%% over %d rows", f.GPU, f.Precision, mae, len(f.Rows))
		}
	}
}

// TestHostOverheadFit re-derives the framework's launch time
// (model.DefaultHostOverheadS) from vTrain's single-node rows: the default
// beats its neighbours 5 µs either side.
func TestHostOverheadFit(t *testing.T) {
	h := model.DefaultHostOverheadS
	e, err := HostOverheadErrors(context.Background(), []float64{h - 5e-6, h, h + 5e-6})
	if err != nil {
		t.Fatal(err)
	}
	if !(e[1] < e[0] && e[1] < e[2]) {
		t.Errorf("mean |error| %.2f%% at %g µs, %.2f%% at -5 µs, %.2f%% at +5 µs: not the minimum", e[1], h*1e6, e[0], e[2])
	}
	if e[1] > 9 {
		t.Errorf("vTrain single-node mean |error| %.2f%% at the fitted launch time", e[1])
	}
}

// TestWeakScaling holds the growth of GPU-seconds per token between the GPU
// counts of one recipe to the published growth: Llama 3's 8K recipe on
// 8,192 and 16,384 GPUs within 3 points (the target), NeMo's
// GPT-3 175B on 128 and 512 H100s within 4.5 (−3.9 points when the suite
// was added: the 512-GPU row runs twice the micro batch, which the model
// credits more than the run did).
func TestWeakScaling(t *testing.T) {
	ws, err := WeakScaling(allRows(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 {
		t.Fatalf("%d recipes at several GPU counts, want 2: %+v", len(ws), ws)
	}
	for _, p := range ws {
		tol := 3.0
		if strings.HasPrefix(p.Recipe, "GPT3-175B") {
			tol = 4.5
		}
		if math.Abs(p.ErrorPoints) > tol {
			t.Errorf("%s: published %+.1f%%, predicted %+.1f%%: %+.1f points (within ±%g)", p.Recipe, p.Published, p.Predicted, p.ErrorPoints, tol)
		}
	}
}
