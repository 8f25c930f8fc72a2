package failure

import (
	"fmt"
	"strings"
)

// Unit is what a cause's rate is counted per.
type Unit int

const (
	PerGPU    Unit = iota // per GPU held by the job
	PerNode               // per node
	PerSwitch             // per network switch the job's nodes hang from
	PerJob                // per job, whatever its size (software, maintenance)
)

var unitNames = [...]string{PerGPU: "gpu", PerNode: "node", PerSwitch: "switch", PerJob: "job"}

func (u Unit) String() string {
	if u >= 0 && int(u) < len(unitNames) {
		return unitNames[u]
	}
	return fmt.Sprintf("Unit(%d)", int(u))
}

// ParseUnit parses "gpu", "node", "switch" or "job".
func ParseUnit(s string) (Unit, error) {
	for i, n := range unitNames {
		if s == n {
			return Unit(i), nil
		}
	}
	return 0, fmt.Errorf("unknown failure unit %q (valid: %s)", s, strings.Join(unitNames[:], ", "))
}

// Cause is one kind of interruption.
type Cause struct {
	Name       string
	Unit       Unit
	RatePerDay float64 // interruptions per unit per day
	Planned    bool    // planned maintenance rather than a failure
	// RecoveryS is this cause's own extra recovery time in seconds on top of
	// the job's restart time (e.g. replacing a node); 0 for none.
	RecoveryS float64
}

// Profile is a named set of causes.
type Profile struct {
	Name   string
	Causes []Cause
}
