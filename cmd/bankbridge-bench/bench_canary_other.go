//go:build !unix

package main

import "time"

// threadCPU is unknown here: the canary is off (cpu_slow_pct -1).
func threadCPU() time.Duration { return 0 }

// processCPU is unknown here (process_cpu_us_per_call is left out).
func processCPU() time.Duration { return 0 }
