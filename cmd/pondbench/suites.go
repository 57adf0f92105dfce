package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// suite is one group of figures that share their set-up.
type suite struct {
	name     string
	prefixes []string // the ids of its figures start with one of them
	run      func(context.Context, *Report, runConfig) error
}

var allSuites = []suite{
	{"go", []string{"pond.", "chain."}, goBench},
	{"dev", []string{"dev."}, devBench},
	{"tree", []string{"tree."}, treeBench},
}

// suites runs every suite asked for; a suite that fails marks the figures
// it did not measure n/a with its error.
func suites(ctx context.Context, r *Report, cfg runConfig) {
	for _, s := range allSuites {
		var skipped []string
		for _, id := range figIDs(s.prefixes...) {
			if !cfg.want(id) {
				skipped = append(skipped, id)
			}
		}
		r.NAAll(skipped, "not asked for (--only)")
		if len(skipped) == len(figIDs(s.prefixes...)) {
			continue
		}
		start := time.Now()
		fmt.Fprintf(os.Stderr, "pondbench: %s ...\n", s.name)
		err := s.run(ctx, r, cfg)
		r.Note("suite %s took %v", s.name, time.Since(start).Round(time.Millisecond))
		if err != nil {
			fmt.Fprintf(os.Stderr, "pondbench: %s: %v\n", s.name, err)
			r.NAAll(figIDs(s.prefixes...), fmt.Sprintf("%s failed: %v", s.name, err))
		}
	}
}
