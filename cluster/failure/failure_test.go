package failure

import (
	"math"
	"testing"
)

func TestLookup(t *testing.T) {
	p, err := Lookup("llama3")
	if err != nil {
		t.Fatal(err)
	}
	// 18 unexpected causes of Table 5 and planned maintenance.
	if len(p.Causes) != 19 {
		t.Fatalf("%d causes, want 19", len(p.Causes))
	}
	_, un, pl := p.Rates(Hardware{GPUs: 16384, Nodes: 2048})
	// 419 unexpected and 47 planned interruptions in 54 days (arXiv:2407.21783 §3.3.4).
	if math.Abs(un-419.0/54) > 1e-12 || math.Abs(pl-47.0/54) > 1e-12 {
		t.Errorf("rates %v unexpected, %v planned per day", un, pl)
	}
	if _, err := Lookup("llama4"); err == nil {
		t.Error("unknown profile accepted")
	}
	none, _ := Lookup("none")
	if len(none.Causes) != 0 {
		t.Error("none has causes")
	}
}

func TestUnits(t *testing.T) {
	h := Hardware{GPUs: 100, Nodes: 13}
	for _, c := range []struct {
		u    Unit
		want float64
	}{{PerGPU, 100}, {PerNode, 13}, {PerSwitch, 4}, {PerJob, 1}} { // ceil(100/32) = 4 leaf switches
		if got := h.Units(c.u); got != c.want {
			t.Errorf("Units(%v) = %v, want %v", c.u, got, c.want)
		}
		back, err := ParseUnit(c.u.String())
		if err != nil || back != c.u {
			t.Errorf("ParseUnit(%q) = %v, %v", c.u.String(), back, err)
		}
	}
	if _, err := ParseUnit("rack"); err == nil {
		t.Error("ParseUnit(rack) accepted")
	}
}

func TestYoungDaly(t *testing.T) {
	// √(2 · 60 s · 3600 s) = √432000 = 657.3 s.
	if got := YoungDaly(60, 3600); math.Abs(got-math.Sqrt(432000)) > 1e-9 {
		t.Errorf("YoungDaly(60, 3600) = %v", got)
	}
	if !math.IsInf(YoungDaly(60, math.Inf(1)), 1) {
		t.Error("no failures should give no checkpoints")
	}
}

func TestKokolisETTR(t *testing.T) {
	// 1,024 nodes at 0.005 failures per node-day, 10-minute restart,
	// hourly checkpoints of 60 s: N·r = 5.926e-5 /s;
	// (1 − 5.926e-5·(600 + 1800)) / (1 + 60/3600) = 0.85778 / 1.016667 = 0.84372.
	got := KokolisETTR(1024, 0.005/86400, 600, 3600, 60)
	if math.Abs(got-0.84372) > 1e-4 {
		t.Errorf("KokolisETTR = %v, want 0.84372", got)
	}
}

func TestRenewalETTR(t *testing.T) {
	// Rare failures: the first-order form of Kokolis et al. (one node at
	// rate λ): λ = 1/day, 10-minute restart, hourly checkpoints of 60 s.
	l := 1.0 / 86400
	got, first := RenewalETTR(l, 600, 3600, 60), KokolisETTR(1, l, 600, 3600, 60)
	if math.Abs(got-first) > 0.002 {
		t.Errorf("RenewalETTR %.5f, Kokolis %.5f", got, first)
	}
	// By hand: λτ = 1/24, λu = 1/144, λ(τ+δ) = 3660/86400:
	// (1/24)·e^{-1/144} / (e^{0.0423611} − 1) = 0.041380 / 0.043271 = 0.95631.
	if math.Abs(got-0.95631) > 1e-4 {
		t.Errorf("RenewalETTR = %.5f, want 0.95631", got)
	}
	// Without failures only the stalls cost: 3600/3660.
	if got := RenewalETTR(0, 600, 3600, 60); math.Abs(got-3600.0/3660) > 1e-12 {
		t.Errorf("no failures: %v", got)
	}
	// Failures far more often than a restart: essentially no progress, but
	// still a finite, positive number.
	if got := RenewalETTR(1.0/60, 900, 300, 3); !(got > 0 && got < 1e-6) {
		t.Errorf("hopeless job: %v", got)
	}
}
