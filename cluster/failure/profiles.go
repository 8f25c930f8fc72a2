package failure

import (
	"fmt"
	"slices"
	"strings"
)

// Llama 3's reliability record (arXiv:2407.21783 §3.3.4, Table 5): 466 job
// interruptions in a 54-day snapshot of pre-training on up to 16,384 H100s
// (2,048 nodes): 47 planned (automated maintenance: firmware and kernel
// upgrades, operator actions) and 419 unexpected, by root cause in Table 5.
// The table's printed percentages do not match its counts (they sum to more
// than 100%), so the profile uses the counts.
const (
	llama3WindowDays = 54
	llama3GPUs       = 16384
	llama3Nodes      = 2048
	llama3Planned    = 47
)

// llama3Counts is Table 5 by count, with the unit each cause is charged to:
// GPU faults to GPUs, host components and the network links of a node to
// nodes, software to the job.
var llama3Counts = []struct {
	name  string
	unit  Unit
	count float64
}{
	{"faulty_gpu", PerGPU, 148},
	{"gpu_hbm3_memory", PerGPU, 72},
	{"software_bug", PerJob, 54},
	{"network_switch_or_cable", PerNode, 35},
	{"host_maintenance", PerNode, 32},
	{"gpu_sram_memory", PerGPU, 19},
	{"gpu_system_processor", PerGPU, 17},
	{"nic", PerNode, 7},
	{"nccl_watchdog_timeout", PerJob, 7},
	{"silent_data_corruption", PerGPU, 6},
	{"gpu_thermal_interface_or_sensor", PerGPU, 6},
	{"ssd", PerNode, 3},
	{"power_supply", PerNode, 3},
	{"server_chassis", PerNode, 2},
	{"io_expansion_board", PerNode, 2},
	{"dependency", PerJob, 2},
	{"cpu", PerNode, 2},
	{"system_memory", PerNode, 2},
}

func llama3Profile() Profile {
	p := Profile{Name: "llama3"}
	for _, c := range llama3Counts {
		units := 1.0
		switch c.unit {
		case PerGPU:
			units = llama3GPUs
		case PerNode:
			units = llama3Nodes
		}
		p.Causes = append(p.Causes, Cause{Name: c.name, Unit: c.unit, RatePerDay: c.count / llama3WindowDays / units})
	}
	p.Causes = append(p.Causes, Cause{Name: "planned_maintenance", Unit: PerJob, RatePerDay: float64(llama3Planned) / llama3WindowDays, Planned: true})
	return p
}

// Lookup returns a built-in profile: "none" (no interruptions) or "llama3".
func Lookup(name string) (Profile, error) {
	switch name {
	case "none":
		return Profile{Name: "none"}, nil
	case "llama3":
		return llama3Profile(), nil
	}
	return Profile{}, fmt.Errorf("unknown failure profile %q (valid: %s, or a mapping of causes to rates)", name, strings.Join(Names(), ", "))
}

// Names lists the built-in profiles, sorted.
func Names() []string {
	n := []string{"none", "llama3"}
	slices.Sort(n)
	return n
}
