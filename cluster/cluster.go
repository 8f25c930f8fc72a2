package cluster

import (
	"errors"
	"fmt"
	"math"
)

// Network describes the fabrics: the scale-up NVLink domain of NVLinkDomain
// GPUs, and the scale-out network, a rail-optimized Clos with one NIC per
// GPU, full bisection inside a pod of NodesPerPod nodes, and
// Oversubscription between pods (Llama 3: 3,072-GPU pods, 1:7 above them).
type Network struct {
	ScaleOutGbps     float64 // NIC line rate per GPU, Gb/s (one NIC per GPU, rail-optimized)
	NodesPerPod      int     // nodes under one full-bisection pod
	Oversubscription float64 // between pods; 1 = full bisection
	LatencyS         float64 // per-hop latency (alpha) of the scale-out network, seconds

	// NVLinkDomain is the number of consecutive GPUs that share one NVLink
	// fabric: 0 means one node (GPUsPerNode), as in an 8-GPU HGX server; a
	// GB200/GB300 NVL72 rack is 72 GPUs on 4-GPU nodes. It must be a
	// multiple of GPUsPerNode. The cluster's GPU count need not be a
	// multiple of it: a last, partial domain holds the rest.
	NVLinkDomain int
}

// Cluster is a homogeneous GPU cluster: GPUs GPUs of one model, GPUsPerNode
// to a node, Network.NVLinkDomain (default: one node) to an NVLink fabric,
// domains joined by the scale-out Network. Build it with New; the cost
// methods assume a validated Cluster.
type Cluster struct {
	GPU         GPU
	GPUs        int
	GPUsPerNode int
	Network     Network
}

// InvalidError reports one out-of-range parameter. New and GPU.Validate
// return every problem at once, joined with errors.Join; unwrap the join
// (errors.As finds the first) to see each.
type InvalidError struct {
	Field  string // e.g. "gpus", "network.oversubscription", "gpu.hbm_gib"
	Value  any
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("cluster: invalid %s %v: %s", e.Field, e.Value, e.Reason)
}

// New validates its arguments and returns the cluster. It rejects, all at
// once (errors.Join of *InvalidError): an invalid GPU (see GPU.Validate),
// non-positive GPU or node counts, a GPU count that is not a whole number of
// nodes, an NVLink domain that is negative or not a whole number of nodes,
// a NaN, infinite or non-positive NIC rate, a non-positive pod size,
// an oversubscription below 1 (or NaN or infinite), and a negative, NaN or
// infinite latency.
func New(gpu GPU, gpus, gpusPerNode int, net Network) (Cluster, error) {
	var errs []error
	if err := gpu.Validate(); err != nil {
		errs = append(errs, err)
	}
	if gpus <= 0 {
		errs = append(errs, &InvalidError{Field: "gpus", Value: gpus, Reason: "must be > 0"})
	}
	if gpusPerNode <= 0 {
		errs = append(errs, &InvalidError{Field: "gpus_per_node", Value: gpusPerNode, Reason: "must be > 0"})
	}
	if gpus > 0 && gpusPerNode > 0 && gpus%gpusPerNode != 0 {
		errs = append(errs, &InvalidError{Field: "gpus", Value: gpus,
			Reason: fmt.Sprintf("must be a multiple of gpus_per_node (%d)", gpusPerNode)})
	}
	if d := net.NVLinkDomain; d < 0 || (d > 0 && gpusPerNode > 0 && d%gpusPerNode != 0) {
		errs = append(errs, &InvalidError{Field: "nvlink_domain", Value: d,
			Reason: fmt.Sprintf("must be a multiple of gpus_per_node (%d), or 0 for one node", gpusPerNode)})
	}
	if v := net.ScaleOutGbps; !(v > 0) || math.IsInf(v, 0) {
		errs = append(errs, &InvalidError{Field: "network.scale_out_gbps", Value: v, Reason: "must be finite and > 0"})
	}
	if net.NodesPerPod <= 0 {
		errs = append(errs, &InvalidError{Field: "network.nodes_per_pod", Value: net.NodesPerPod, Reason: "must be > 0"})
	}
	if v := net.Oversubscription; !(v >= 1) || math.IsInf(v, 0) {
		errs = append(errs, &InvalidError{Field: "network.oversubscription", Value: v, Reason: "must be finite and >= 1 (1 = full bisection)"})
	}
	if v := net.LatencyS; !(v >= 0) || math.IsInf(v, 0) {
		errs = append(errs, &InvalidError{Field: "network.latency_s", Value: v, Reason: "must be finite and >= 0"})
	}
	if err := errors.Join(errs...); err != nil {
		return Cluster{}, err
	}
	return Cluster{GPU: gpu, GPUs: gpus, GPUsPerNode: gpusPerNode, Network: net}, nil
}

// Domain returns the NVLink domain size in GPUs: Network.NVLinkDomain, or
// GPUsPerNode where that is 0.
func (c Cluster) Domain() int {
	if d := c.Network.NVLinkDomain; d > 0 {
		return d
	}
	return c.GPUsPerNode
}

// Nodes returns the number of nodes, GPUs / GPUsPerNode.
func (c Cluster) Nodes() int { return c.GPUs / c.GPUsPerNode }

// Pods returns the number of pods, rounded up: a last, partial pod counts.
func (c Cluster) Pods() int {
	n, p := c.Nodes(), c.Network.NodesPerPod
	return (n + p - 1) / p
}
