package study

import (
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/clustersim/clustersim/scenarios"
)

func TestBuildFrom(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.25.0", Main: debug.Module{Path: "github.com/clustersim/clustersim"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "fc5596a0"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	b := buildFrom(info)
	want := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if b.Version != "(devel)" || b.Revision != "fc5596a0" || !b.Time.Equal(want) || !b.Modified || b.GoVersion != "go1.25.0" {
		t.Errorf("%+v", b)
	}
	info.Main.Version = "v0.3.0"
	if b := buildFrom(info); b.Version != "v0.3.0" {
		t.Errorf("version %q", b.Version)
	}
}

func TestProvenanceKeepsComments(t *testing.T) {
	spec, _, err := scenarios.Resolve("llama3-405b", "cluster.gpus=8192")
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	p, err := ProvenanceOf(Build{Version: "(devel)"}, date, "clustersim report llama3-405b", "llama3-405b", []string{"cluster.gpus=8192"}, spec)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := scenarios.BuiltinYAML("llama3-405b")
	if p.ScenarioText != string(raw) || !strings.Contains(p.ScenarioText, "#") {
		t.Errorf("scenario text is not the built-in as written, comments kept")
	}
	// the H100 SXM's catalog constants: 700 W board power (NVIDIA H100 SXM datasheet), HBM as the spec has it
	if p.GPU.Name != "h100-sxm" || p.GPU.TDPWatts != 700 || p.GPU.HBMGiB != spec.Step.Cluster.GPU.HBMGiB || !p.Date.Equal(date) {
		t.Errorf("%+v", p.GPU)
	}
	if len(p.Overrides) != 1 {
		t.Errorf("overrides %q", p.Overrides)
	}
}
