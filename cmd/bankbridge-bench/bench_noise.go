package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The machine's noise, measured in the same run as `bench api`'s
// scenarios: the disk's fsync latency, the CPU's speed (back to back and
// on waking), the CPU time stolen by the hypervisor, and how often the CPU
// ran the same work slower (the canary, bench_canary.go).
//
// The disk baseline: what one fsync costs on this machine, in this minute.
// Every data API call answers only after the commit that holds its
// disclosure record, and a commit ends in a flush (SQLite's WAL fsync,
// PostgreSQL's WAL flush) that starts after the record was queued, so each
// call takes at least that flush and the disk's own tail is a floor under
// the calls' tail. The figure stands
// beside the scenarios the way pgbench stands beside `bench ledger`: it
// suffers the same machine, so the two can be compared.
const (
	// diskRate is about the appender's commit rate at 2,000 calls a
	// second (one to two records per commit).
	diskRate = 1000
	// diskWrite is about the WAL one such commit writes (8-9 KiB with the
	// audit file's 1 KiB pages).
	diskWrite = 8 << 10
	// diskSpan is the file the writes cycle through: written once before
	// the clock starts, so the measured writes overwrite allocated blocks,
	// as a WAL does once it has grown.
	diskSpan = 4 << 20
)

// benchDisk writes diskWrite bytes and fsyncs them, started diskRate times
// a second (or at once, when the last one ran late) for d, in a temporary
// file in dir, and reports each fsync's latency (write included). fsync,
// not fdatasync: it is what SQLite as built by go-sqlite3 calls (it is
// compiled without HAVE_FDATASYNC); PostgreSQL's default fdatasync can
// only be as fast or faster. The name is disk_fsync; the engine is the
// database's, since the scenarios it stands beside ran on that engine's
// disk.
func benchDisk(ctx context.Context, dir, engine string, d time.Duration) (apiScenario, error) {
	f, err := os.CreateTemp(dir, "bench-fsync-")
	if err != nil {
		return apiScenario{}, fmt.Errorf("bench api: disk baseline: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, diskWrite)
	for i := range buf {
		buf[i] = byte(i)
	}
	for off := int64(0); off < diskSpan; off += diskWrite {
		if _, err := f.WriteAt(buf, off); err != nil {
			return apiScenario{}, fmt.Errorf("bench api: disk baseline: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return apiScenario{}, fmt.Errorf("bench api: disk baseline: %w", err)
	}
	interval := time.Second / diskRate
	cpu0 := readCPUTimes()
	lat := make([]time.Duration, 0, int(d/interval)+1)
	start := time.Now()
	var off int64
	for i := 0; ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d {
			break
		}
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		t := time.Now()
		if _, err := f.WriteAt(buf, off); err != nil {
			return apiScenario{}, fmt.Errorf("bench api: disk baseline: %w", err)
		}
		if err := f.Sync(); err != nil {
			return apiScenario{}, fmt.Errorf("bench api: disk baseline: %w", err)
		}
		lat = append(lat, time.Since(t))
		off = (off + diskWrite) % diskSpan
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	s := apiScenario{Name: "disk_fsync", Engine: engine, Target: diskRate, Calls: len(lat), Seconds: elapsed.Seconds(), StealPct: stealPct(cpu0, readCPUTimes())}
	if len(lat) > 0 {
		s.RPS = float64(len(lat)) / elapsed.Seconds()
		s.P50, s.P99, s.P999 = ms(quantile(lat, 1, 2)), ms(quantile(lat, 99, 100)), ms(quantile(lat, 999, 1000))
	}
	return s, nil
}

// cpuTimes is the machine's CPU time so far, from /proc/stat's first line:
// all of it, and the part the hypervisor ran other guests on our virtual
// CPUs (steal). ok is false where there is no /proc/stat.
type cpuTimes struct {
	total, steal uint64
	ok           bool
}

func readCPUTimes() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal guest guest_nice;
	// guest time is already counted in user.
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}
	}
	var t cpuTimes
	for i, s := range f[1:min(len(f), 9)] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}
		}
		t.total += v
		if i == 7 {
			t.steal = v
		}
	}
	t.ok = true
	return t
}

// stealPct is the share of the machine's CPU time between a and b that was
// stolen: time our virtual CPUs wanted to run and the host ran something
// else. A call that lands in such a gap waits for it whatever the server
// does. -1 when unknown.
func stealPct(a, b cpuTimes) float64 {
	if !a.ok || !b.ok || b.total <= a.total {
		return -1
	}
	return math.Round(float64(b.steal-a.steal)/float64(b.total-a.total)*1000) / 10
}

// p256Signed is a new P-256 key, the SHA-256 digest of msg and the key's
// ASN.1 signature of it: the one verification every partner call costs,
// for the baselines that repeat it (benchCPU, floorServer).
func p256Signed(msg string) (*ecdsa.PrivateKey, [sha256.Size]byte, []byte, error) {
	digest := sha256.Sum256([]byte(msg))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, digest, nil, err
	}
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	return key, digest, sig, err
}

// cpuBaseline is how long each benchCPU run verifies.
const cpuBaseline = 2 * time.Second

// cpuPace is the rest between two verifications of the paced run: the
// interval between two balance calls at 2,000 a second.
const cpuPace = 500 * time.Microsecond

// benchCPU verifies one P-256 signature over and over for d, one at a
// time, each after a rest of pace, and reports each verification's time.
// benchAPI runs it twice:
//
//   - cpu_p256_verify, back to back (pace 0): the CPU's speed in this
//     minute, on the work every call does once (its DPoP proof). On this
//     kind of machine the same verification took from 1x to 1.8x as long
//     from one hour to the next, and every p50 moves with it.
//   - cpu_p256_verify_paced, each after cpuPace, as a server's work comes:
//     how much slower the CPU can be on waking. The verification is timed
//     from its start, not from the wake-up. On a virtual machine with
//     nothing else running, a few in a hundred took up to ten times as
//     long; a call wakes several goroutines, so this line's p99 is a floor
//     under the scenarios' p99 in the same run.
func benchCPU(ctx context.Context, engine, name string, d, pace time.Duration) (apiScenario, error) {
	key, digest, sig, err := p256Signed("bench api cpu baseline")
	if err != nil {
		return apiScenario{}, err
	}
	var lat []time.Duration
	cpu0 := readCPUTimes()
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		if pace > 0 {
			time.Sleep(pace)
		}
		t := time.Now()
		if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
			return apiScenario{}, errors.New("bench api: cpu baseline: the signature does not verify")
		}
		lat = append(lat, time.Since(t))
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	return apiScenario{Name: name, Engine: engine, Calls: len(lat), RPS: float64(len(lat)) / elapsed.Seconds(),
		P50: ms(quantile(lat, 1, 2)), P99: ms(quantile(lat, 99, 100)), P999: ms(quantile(lat, 999, 1000)),
		Seconds: elapsed.Seconds(), StealPct: stealPct(cpu0, readCPUTimes())}, nil
}
