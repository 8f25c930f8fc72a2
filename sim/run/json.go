package run

import (
	"encoding/json"
	"math"
)

// checkpointJSON is Checkpoint with the fields that may be infinite as
// pointers: JSON has no infinity, so a job without failures (an infinite
// MTBF, and no checkpoints under auto) writes them as null.
type checkpointJSON struct {
	Bytes     float64  `json:"bytes"`
	WriteS    float64  `json:"write_s"`
	StallS    float64  `json:"stall_s"`
	IntervalS *float64 `json:"interval_s"`
	MTBFS     *float64 `json:"mtbf_s"`
}

func finite(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}

func orInf(p *float64) float64 {
	if p == nil {
		return math.Inf(1)
	}
	return *p
}

// MarshalJSON writes an infinite interval or MTBF (no failures) as null.
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkpointJSON{c.Bytes, c.WriteS, c.StallS, finite(c.IntervalS), finite(c.MTBFS)})
}

// UnmarshalJSON reads null as an infinite interval or MTBF, so that a
// Result survives a JSON round trip.
func (c *Checkpoint) UnmarshalJSON(b []byte) error {
	var j checkpointJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Checkpoint{Bytes: j.Bytes, WriteS: j.WriteS, StallS: j.StallS, IntervalS: orInf(j.IntervalS), MTBFS: orInf(j.MTBFS)}
	return nil
}
