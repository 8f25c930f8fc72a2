package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/scenarios/study"
)

func newVersionCmd(io *streams, read func() study.Build) *cobra.Command {
	if read == nil {
		read = study.ReadBuild
	}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the module version and VCS revision of this binary",
		Long: `Print the module version and the VCS revision, commit time and whether the
working tree had local changes, as the Go toolchain stamped them into the
binary (runtime/debug build info). A binary built from a checkout says
"(devel)"; go run and go test do not stamp the revision.`,
		Args: positional(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			writeVersion(io, read())
			return nil
		},
	}
}

func writeVersion(io *streams, b study.Build) {
	fmt.Fprintf(io.out, "clustersim %s\n", b.Version)
	if b.Module != "" {
		fmt.Fprintf(io.out, "module    %s\n", b.Module)
	}
	rev := "unknown (not stamped: go run, go test or -buildvcs=false)"
	if b.Revision != "" {
		rev = b.Revision
		if b.Modified {
			rev += " (modified)"
		}
	}
	fmt.Fprintf(io.out, "revision  %s\n", rev)
	if !b.Time.IsZero() {
		fmt.Fprintf(io.out, "committed %s\n", b.Time.UTC().Format(time.RFC3339))
	}
	if b.GoVersion != "" {
		fmt.Fprintf(io.out, "go        %s\n", b.GoVersion)
	}
}
