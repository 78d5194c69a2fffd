package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// CostSplit divides the server's CPU per certificate into the
// cryptography every issuer must do, what this server spends on any
// signed call, and the rest, in microseconds of CPU, from rates measured
// in the same run: the split explains the gap between the CPU efficiency
// and 1 by parts. The request floor is an upper bound on the transport: it
// also holds DescribeCertificateAuthority's own store read and JSON. A field is 0 when a rate it
// needs was not measured (the server's CPU needs --server-pid).
type CostSplit struct {
	// RawCreateMicros is one raw x509.CreateCertificate, the efficiency's
	// bound.
	RawCreateMicros float64 `json:"rawCreateCertificateCpuMicros"`
	// IssuanceMicros is the server's CPU per certificate issued.
	IssuanceMicros float64 `json:"issuanceServerCpuMicrosPerCertificate,omitempty"`
	// CryptoFloorMicros is the cryptography issuance cannot skip: verify
	// the CSR's signature and sign once with the CA key.
	CryptoFloorMicros float64 `json:"cryptoFloorCpuMicrosPerCertificate"`
	// RequestFloorMicros is the server's CPU for the cheapest signed call,
	// what any call costs before its own work.
	RequestFloorMicros float64 `json:"requestFloorServerCpuMicrosPerRequest,omitempty"`
	// RestMicros is IssuanceMicros less both floors: what issuance adds
	// besides its cryptography and the transport (parsing, encoding, the
	// durable record, audit, GC). It may come out negative where the
	// floors were measured with other work, as in a test that runs the
	// server and the load in one process.
	RestMicros float64 `json:"restServerCpuMicrosPerCertificate,omitempty"`
	// Ceiling is RawCreateMicros ÷ (CryptoFloorMicros +
	// RequestFloorMicros): the CPU efficiency of a server that spent
	// nothing per certificate beyond the two floors.
	Ceiling float64 `json:"ceilingCpuEfficiencyRatio,omitempty"`
}

// splitCost derives the split from operations per CPU-second: raw
// CreateCertificate and the crypto floor in the load-test process,
// certificates issued and floor requests served per server CPU-second.
func splitCost(rawPerCPUSec, issuedPerServerCPUSec, cryptoFloorPerCPUSec, floorPerServerCPUSec float64) CostSplit {
	c := CostSplit{
		RawCreateMicros: micros(rawPerCPUSec), IssuanceMicros: micros(issuedPerServerCPUSec),
		CryptoFloorMicros: micros(cryptoFloorPerCPUSec), RequestFloorMicros: micros(floorPerServerCPUSec),
	}
	if c.CryptoFloorMicros > 0 && c.RequestFloorMicros > 0 {
		floors := c.CryptoFloorMicros + c.RequestFloorMicros
		c.Ceiling = c.RawCreateMicros / floors
		if c.IssuanceMicros > 0 {
			c.RestMicros = c.IssuanceMicros - floors
		}
	}
	return c
}

// micros is the microseconds one operation takes at perSec operations a
// second, or 0 for a rate not measured.
func micros(perSec float64) float64 {
	if perSec <= 0 {
		return 0
	}
	return 1e6 / perSec
}

// floorDuration is how long the request floor is measured for a run of
// dur: long enough that the server's CPU time, read in 10 ms ticks, is
// exact to a fraction of a percent, short beside the issuance phase.
func floorDuration(dur time.Duration) time.Duration { return max(dur/3, 3*time.Second) }

// measureRequestFloor sends signed DescribeCertificateAuthority calls for
// t's CA over the load's clients, conc at once, for d, reading the
// server's CPU time around them. They are signed now, not with the
// issuance requests, so they are well inside the skew window however long
// the issuance ran.
func measureRequestFloor(ctx context.Context, s *devServer, t PCATarget, conc int, d time.Duration, pid int, log io.Writer) (Measurement, error) {
	reqs, err := SignDescribe(ctx, t, s.Admin, time.Now())
	if err != nil {
		return Measurement{}, err
	}
	fmt.Fprintln(log, "measuring the request floor (DescribeCertificateAuthority)…")
	return measure(ctx, s, reqs, Options{Concurrency: conc, Duration: d, Client: s.Client, Accept: AcceptStatus(http.StatusOK)}, Bound{}, pid, log), nil
}

// printCostSplit writes the split, and the request floor it came from
// when floor was measured, as text.
func printCostSplit(w io.Writer, c CostSplit, floor Measurement) {
	if c.RequestFloorMicros == 0 {
		fmt.Fprintf(w, "  CPU per certificate: raw CreateCertificate %.0f µs, crypto floor (CSR check + one P-256 signature) %.0f µs; the request floor needs --server-pid\n",
			c.RawCreateMicros, c.CryptoFloorMicros)
		return
	}
	r := floor.Result
	fmt.Fprintf(w, "  request floor: %d signed DescribeCertificateAuthority (failures %d) over the same clients in %.1f s, server CPU %.1f s, %.0f store writes: %.0f µs server CPU per request\n",
		r.Requests, r.Failures(), r.Elapsed.Seconds(), floor.ServerCPUSeconds, floor.StoreWrites, c.RequestFloorMicros)
	fmt.Fprintf(w, "  CPU per certificate: raw CreateCertificate %.0f µs; issuance %.0f µs = crypto floor (CSR check + one P-256 signature) %.0f µs + request floor %.0f µs + rest %.0f µs\n",
		c.RawCreateMicros, c.IssuanceMicros, c.CryptoFloorMicros, c.RequestFloorMicros, c.RestMicros)
	fmt.Fprintf(w, "  ceiling: raw ÷ (crypto floor + request floor) = %.0f ÷ %.0f µs: CPU efficiency %.2f\n",
		c.RawCreateMicros, c.CryptoFloorMicros+c.RequestFloorMicros, c.Ceiling)
}
