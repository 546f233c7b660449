package main

import (
	"crypto/sha256"
	"runtime"
	"slices"
	"time"
)

// A canary for the CPU's speed while a scenario runs. Every canaryEvery it
// wakes, does a fixed piece of work (canaryWork) and times it by the CPU
// time of its own thread, not by the clock: a wait for a core (another
// thread running, a preemption) is not counted, only the same instructions
// running slower. The share of probes more than canarySlow times slower
// than the quiet median (calibrated before the scenarios, back to back) is
// each scenario's cpu_slow_pct.
//
// Why: on this kind of virtual machine, the same P-256 verification inside
// a data API call took 0.11-0.14 ms of thread CPU time most of the time and
// 1.4-1.7 ms in bursts of 20-40 ms, at 500 calls a second as at 2,000. In
// those bursts no software keeps up, and every call waiting then ends in
// the p99. The figure says how much of a run was such bursts, measured in
// the same run (docs/dataapi.md).
const (
	canaryEvery = 5 * time.Millisecond
	canarySlow  = 3
)

// canaryWork hashes 32 KiB: 20-30 µs on the machines this was tried on,
// about 0.5% of one core at canaryEvery.
func canaryWork(buf []byte) {
	for range 8 {
		sha256.Sum256(buf)
	}
}

type canary struct {
	quiet time.Duration
	stop  chan struct{}
	done  chan []time.Duration
	// cpu is the thread CPU time the probes took, known after finish:
	// bench api takes it out of the server's process CPU.
	cpu time.Duration
}

// calibrateCanary returns the median thread CPU time of canaryWork back to
// back, or 0 where the thread's CPU time cannot be read.
func calibrateCanary() time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if threadCPU() == 0 {
		return 0
	}
	buf := make([]byte, 4096)
	d := make([]time.Duration, 0, 1000)
	for range cap(d) {
		c0 := threadCPU()
		canaryWork(buf)
		d = append(d, threadCPU()-c0)
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// startCanary starts probing; a zero quiet means no canary (finish says -1).
func startCanary(quiet time.Duration) *canary {
	c := &canary{quiet: quiet, stop: make(chan struct{}), done: make(chan []time.Duration, 1)}
	if quiet <= 0 {
		close(c.done)
		return c
	}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		buf := make([]byte, 4096)
		var d []time.Duration
		t := time.NewTicker(canaryEvery)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				c.done <- d
				return
			case <-t.C:
				c0 := threadCPU()
				canaryWork(buf)
				d = append(d, threadCPU()-c0)
			}
		}
	}()
	return c
}

// finish stops the canary and returns the share, in percent, of its probes
// that ran more than canarySlow times slower than quiet; -1 without a canary.
func (c *canary) finish() float64 {
	if c.quiet <= 0 {
		return -1
	}
	close(c.stop)
	d := <-c.done
	for _, x := range d {
		c.cpu += x
	}
	if len(d) == 0 {
		return -1
	}
	slow := 0
	for _, x := range d {
		if x > canarySlow*c.quiet {
			slow++
		}
	}
	return float64(slow*1000/len(d)) / 10
}
