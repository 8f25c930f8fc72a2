// Command clustersim simulates GPU training clusters: how long a training
// run takes, at what throughput and cost, with failures, and which layout
// to use. See README.md and `clustersim --help`.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
