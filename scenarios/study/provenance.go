package study

import (
	"runtime/debug"
	"time"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/run"
)

// Build is what the binary knows of its own build (runtime/debug's build
// info): the module version and the VCS stamp.
type Build struct {
	Module    string // module path
	Version   string // module version; "(devel)" for a build from a checkout
	GoVersion string
	Revision  string    // VCS revision; "" when not stamped (go run, go test, -buildvcs=false)
	Time      time.Time // VCS commit time; zero when not stamped
	Modified  bool      // the working tree had local changes
}

// ReadBuild reads the build info of the running binary; Version is
// "(devel)" when unknown.
func ReadBuild() Build {
	b := Build{Version: "(devel)"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	return buildFrom(info)
}

func buildFrom(info *debug.BuildInfo) Build {
	b := Build{Module: info.Main.Path, Version: info.Main.Version, GoVersion: info.GoVersion}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time, _ = time.Parse(time.RFC3339, s.Value)
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// Provenance is what a report records of how it was made.
type Provenance struct {
	Build Build
	// Date is the run's date as the caller gives it (the build's VCS time
	// or the current time): Provenance never reads the clock, so that the
	// same inputs give the same bytes.
	Date time.Time
	// Command is the command line that made the report.
	Command string
	// ScenarioName and ScenarioText are the scenario as written: the
	// built-in's embedded YAML or the file's bytes, comments kept.
	ScenarioName string
	ScenarioText string
	// Overrides are the --set overrides applied after loading.
	Overrides []string
	// GPU is the hardware constants the run used (the catalog's entry,
	// with any scenario overrides).
	GPU cluster.GPU
	// Network is the cluster's fabric as simulated.
	Network cluster.Network
}

// ProvenanceOf records the build, the scenario as written and the
// hardware constants of s; date is the caller's (zero leaves it unset).
func ProvenanceOf(build Build, date time.Time, command, scenario string, sets []string, s run.Spec) (Provenance, error) {
	text, err := ScenarioBytes(scenario)
	if err != nil {
		return Provenance{}, err
	}
	return Provenance{Build: build, Date: date, Command: command, ScenarioName: scenario, ScenarioText: string(text),
		Overrides: append([]string(nil), sets...), GPU: s.Step.Cluster.GPU, Network: s.Step.Cluster.Network}, nil
}
