package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/clustersim/clustersim/scenarios/study"
)

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	io := &streams{out: &out, err: &bytes.Buffer{}}
	cmd := newVersionCmd(io, func() study.Build {
		return study.Build{Module: "github.com/clustersim/clustersim", Version: "(devel)", GoVersion: "go1.26.0",
			Revision: "fc5596a", Modified: true, Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	})
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := "clustersim (devel)\nmodule    github.com/clustersim/clustersim\nrevision  fc5596a (modified)\ncommitted 2026-12-01T10:00:00Z\ngo        go1.26.0\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	// the real binary's: a version line, "(devel)" under go test
	var real bytes.Buffer
	if code := Main([]string{"version"}, strings.NewReader(""), &real, &bytes.Buffer{}); code != 0 || !strings.HasPrefix(real.String(), "clustersim ") {
		t.Errorf("exit %d: %q", code, real.String())
	}
	if code := Main([]string{"version", "extra"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}); code != exitUsage {
		t.Errorf("version extra: exit %d, want %d", code, exitUsage)
	}
}
