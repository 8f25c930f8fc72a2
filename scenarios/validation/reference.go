package validation

import (
	"bytes"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// reference holds verbatim copies of the project's shared reference data
// (../shared/reference in a checkout), so that a fresh clone validates
// without it. TestReferenceCopies keeps them byte-identical.
//
//go:embed reference
var reference embed.FS

// Paths of the embedded reference files, relative to reference/.
const (
	measuredFile  = "measured.yaml"
	publishedFile = "published.yaml"
	vtrainSingle  = "vtrain/ground_truth_single.csv"
	vtrainMulti   = "vtrain/ground_truth_multi_visible.csv"
)

// ReferenceFile returns the embedded copy of a reference file, by its path
// relative to the reference folder (e.g. "measured.yaml").
func ReferenceFile(name string) ([]byte, error) {
	return reference.ReadFile("reference/" + name)
}

// ReferenceFiles lists the embedded reference files, relative to the
// reference folder, in lexical order.
func ReferenceFiles() []string {
	var out []string
	var walk func(dir string)
	walk = func(dir string) {
		es, _ := reference.ReadDir(dir)
		for _, e := range es {
			p := dir + "/" + e.Name()
			if e.IsDir() {
				walk(p)
			} else if e.Name() != ".gitattributes" {
				out = append(out, strings.TrimPrefix(p, "reference/"))
			}
		}
	}
	walk("reference")
	return out
}

// measuredRow is one row of measured.yaml: a NeMo or Megatron-Bridge
// performance-summary row. Null fields are nil.
type measuredRow struct {
	ID                string        `yaml:"id"`
	Source            string        `yaml:"source"`
	System            string        `yaml:"system"`
	GPU               string        `yaml:"gpu"`
	GPUs              int           `yaml:"gpus"`
	GPUsPerNode       int           `yaml:"gpus_per_node"`
	Model             measuredModel `yaml:"model"`
	ModelName         string        `yaml:"model_name"`
	Precision         string        `yaml:"precision"`
	SeqLen            int           `yaml:"seq_len"`
	GlobalBatch       int           `yaml:"global_batch"`
	MicroBatch        *int          `yaml:"micro_batch"`
	TP                int           `yaml:"tp"`
	PP                int           `yaml:"pp"`
	CP                int           `yaml:"cp"`
	VP                *int          `yaml:"vp"`
	EP                *int          `yaml:"ep"`
	FSDP              *int          `yaml:"fsdp"`
	DP                *int          `yaml:"dp"`
	TokensPerSPerGPU  *float64      `yaml:"tokens_per_s_per_gpu"`
	ModelTFLOPSPerGPU *float64      `yaml:"model_tflops_per_gpu"`
	StepTimeS         *float64      `yaml:"step_time_s"`
	StepTimeDerived   *bool         `yaml:"step_time_derived"`
	MoE               bool          `yaml:"moe"`
	Notes             string        `yaml:"notes"`
}

// measuredModel is a built-in architecture name (Builtin) or an inline
// mapping; MoE rows give only a name.
type measuredModel struct {
	Builtin        string
	Name           string `yaml:"name"`
	Layers         int    `yaml:"layers"`
	Hidden         int    `yaml:"hidden"`
	FFNHidden      int    `yaml:"ffn_hidden"`
	Heads          int    `yaml:"heads"`
	KVHeads        int    `yaml:"kv_heads"`
	Vocab          int    `yaml:"vocab"`
	MLP            string `yaml:"mlp"`
	TiedEmbeddings bool   `yaml:"tied_embeddings"`
}

func (m *measuredModel) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		m.Builtin = n.Value
		return nil
	}
	type plain measuredModel
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*m = measuredModel(p)
	return nil
}

// loadMeasured parses measured.yaml strictly: a key the schema does not
// know is an error, so a new column is noticed, not ignored.
func loadMeasured() ([]measuredRow, error) {
	data, err := ReferenceFile(measuredFile)
	if err != nil {
		return nil, err
	}
	return parseMeasured(data, measuredFile)
}

// parseMeasured parses rows in measured.yaml's schema from data, strictly;
// file names the data in errors.
func parseMeasured(data []byte, file string) ([]measuredRow, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var rows []measuredRow
	if err := dec.Decode(&rows); err != nil && !errors.Is(err, io.EOF) { // an empty file has no rows
		return nil, fmt.Errorf("validation: %s: %w", file, err)
	}
	return rows, nil
}

// published is the part of published.yaml that validation reads.
type published struct {
	Table4 struct {
		Source string `yaml:"source"`
		Rows   []struct {
			GPUs   int     `yaml:"gpus"`
			SeqLen int     `yaml:"seq_len"`
			TFLOPS float64 `yaml:"tflops_per_gpu"`
			MFU    float64 `yaml:"mfu"`
			TP     int     `yaml:"tp"`
			CP     int     `yaml:"cp"`
			PP     int     `yaml:"pp"`
			DP     int     `yaml:"dp"`
			PerDP  int     `yaml:"batch_per_dp"`
			Batch  string  `yaml:"tokens_per_batch"`
		} `yaml:"rows"`
	} `yaml:"llama3_table4"`
	Reliability struct {
		Source     string  `yaml:"source"`
		WindowDays float64 `yaml:"window_days"`
		GPUs       int     `yaml:"gpus"`
		Planned    float64 `yaml:"planned"`
		Unexpected float64 `yaml:"unexpected"`
		ETTR       string  `yaml:"effective_training_time"` // "> 0.90"
	} `yaml:"llama3_reliability"`
	Runs struct {
		Source   string             `yaml:"source"`
		GPUHours map[string]float64 `yaml:"gpu_hours"`
		Recipe   struct {
			TotalFLOPs float64 `yaml:"total_flops"`
		} `yaml:"llama3_405b_recipe"`
	} `yaml:"llama3_runs"`
	SC21 struct {
		Source string    `yaml:"source"`
		Rows   []sc21Row `yaml:"rows"`
		Note   string    `yaml:"note"`
	} `yaml:"megatron_sc21_table1"`
}

// sc21Row is one row of Megatron-LM SC21 Table 1 as published.yaml gives it.
type sc21Row struct {
	ParamsB float64 `yaml:"params_b"`
	Heads   int     `yaml:"heads"`
	Hidden  int     `yaml:"hidden"`
	Layers  int     `yaml:"layers"`
	TP      int     `yaml:"tp"`
	PP      int     `yaml:"pp"`
	GPUs    int     `yaml:"gpus"`
	Batch   int     `yaml:"batch"`
	TFLOPS  float64 `yaml:"tflops_per_gpu"`
}

// loadPublished parses the sections of published.yaml that validation
// uses (the others are facts for other packages' tests).
func loadPublished() (published, error) {
	var p published
	data, err := ReferenceFile(publishedFile)
	if err != nil {
		return p, err
	}
	if err := yaml.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("validation: %s: %w", publishedFile, err)
	}
	return p, nil
}

// parseBound splits a bounded figure such as "> 0.90" into its bound and
// value.
func parseBound(s string) (string, float64, error) {
	s = strings.TrimSpace(s)
	bound := ""
	if strings.HasPrefix(s, ">") {
		bound, s = ">", strings.TrimSpace(s[1:])
	}
	v, err := strconv.ParseFloat(s, 64)
	return bound, v, err
}

// vtrainRow is one measured iteration of vTrain's ground truth
// (VIA-Research/vTrain data/ground_truth_*.csv).
type vtrainRow struct {
	Line                 int     // 1-based line in the CSV, the header being line 1
	ParamsB              float64 // the multi-node file only
	GPUs, Batch, Micro   int
	Hidden, Heads        int
	Layers, SeqLen       int
	TP, DP, PP           int
	IterationMS          float64
	ParamsColumnProvided bool
}

// vtrainColumns are the CSV headers, by the field they fill.
var vtrainColumns = []string{"# GPUs", "global batch", "micro batch", "hidden size", "attention heads",
	"# layers", "sequence length", "tensor parallelism", "data parallelism", "pipeline parallelism", "iteration time (ms)"}

// loadVTrain parses one of vTrain's CSVs: UTF-8 with a byte-order mark and
// CRLF line ends (encoding/csv drops the CR; the BOM is stripped here).
// Columns are found by header name; every header named in vtrainColumns
// must be there.
func loadVTrain(name string) ([]vtrainRow, error) {
	data, err := ReferenceFile(name)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("validation: %s: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, h := range vtrainColumns {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("validation: %s: no column %q in %q", name, h, header)
		}
	}
	pcol, hasParams := col["Parameters (billion)"]
	var rows []vtrainRow
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("validation: %s: %w", name, err)
		}
		ints := make([]int, len(vtrainColumns)-1)
		for i, h := range vtrainColumns[:len(vtrainColumns)-1] {
			if ints[i], err = strconv.Atoi(strings.TrimSpace(rec[col[h]])); err != nil {
				return nil, fmt.Errorf("validation: %s:%d: %s: %w", name, line, h, err)
			}
		}
		ms, err := strconv.ParseFloat(strings.TrimSpace(rec[col["iteration time (ms)"]]), 64)
		if err != nil {
			return nil, fmt.Errorf("validation: %s:%d: iteration time: %w", name, line, err)
		}
		row := vtrainRow{Line: line, GPUs: ints[0], Batch: ints[1], Micro: ints[2], Hidden: ints[3], Heads: ints[4],
			Layers: ints[5], SeqLen: ints[6], TP: ints[7], DP: ints[8], PP: ints[9], IterationMS: ms}
		if hasParams {
			if row.ParamsB, err = strconv.ParseFloat(strings.TrimSpace(rec[pcol]), 64); err != nil {
				return nil, fmt.Errorf("validation: %s:%d: parameters: %w", name, line, err)
			}
			row.ParamsColumnProvided = true
		}
		rows = append(rows, row)
	}
	return rows, nil
}
