package loadtest

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acmpca"
)

// sampleSize is how many issued certificates are fetched and checked
// after an acm-pca run.
const sampleSize = 20

// PCAReport is what the load command prints for IssueCertificate through
// the ACM-PCA API (also as JSON with --json). The bound is raw
// x509.CreateCertificate with a P-256 CA key. After the issuance the run
// measures two floors — the cryptography issuance cannot skip, and this
// server's cost of its cheapest signed call — and CostSplit divides the
// server's CPU per certificate by them.
type PCAReport struct {
	API         string `json:"api"`
	CSRs        int    `json:"csrs"`
	Concurrency int    `json:"concurrency"`
	Summary
	CertificatesPerSecond float64 `json:"certificatesPerSecond"`
	RawCreatePerSec       float64 `json:"rawCreateCertificatePerSecond"`
	CertsPerCPUSec        float64 `json:"certificatesPerServerCpuSecond,omitempty"`
	RawCreatePerCPUSec    float64 `json:"rawCreateCertificatePerCpuSecond"`
	// The bound of earlier load tests, for comparison: raw CreateCertificate
	// of a bare client certificate (no basic constraints, key identifiers or
	// CRL distribution point), and the CPU efficiency against it.
	RawBarePerCPUSec     float64 `json:"rawBareCreateCertificatePerCpuSecond"`
	CPUEfficiencyToBare  float64 `json:"cpuEfficiencyToBareRatio,omitempty"`
	WritesPerCertificate float64 `json:"storeWritesPerCertificate"`
	// Sampled certificates were fetched with GetCertificate after the run;
	// SampleFailures of them did not parse, chain to the CA or certify
	// their CSR's key.
	Sampled        int `json:"sampledCertificates"`
	SampleFailures int `json:"sampleFailures"`
	// The request floor phase (with --server-pid only): signed
	// DescribeCertificateAuthority calls over the same clients. Reads are
	// not recorded, so its store writes should be none.
	FloorRequests         int64   `json:"requestFloorRequests,omitempty"`
	FloorFailures         int64   `json:"requestFloorFailures"`
	FloorServerCPUSeconds float64 `json:"requestFloorServerCpuSeconds,omitempty"`
	FloorStoreWrites      float64 `json:"requestFloorStoreWrites"`
	// CryptoFloorPerCPUSec is CSR checks, each with one CA signature, per
	// CPU-second of the load-test process.
	CryptoFloorPerCPUSec float64 `json:"cryptoFloorPerCpuSecond"`
	CostSplit

	m, floor Measurement
}

func (r *PCAReport) printText(w io.Writer) {
	fmt.Fprintf(w, "IssueCertificate (ACM-PCA API) over HTTPS keep-alive: %d P-256 CSRs, %d clients\n", r.CSRs, r.Concurrency)
	r.m.print(w, wording{unit: "certificates", bound: "raw x509.CreateCertificate of the certificate the server issued (P-256 CA key, all cores)",
		boundUnit: "raw CreateCertificate", request: "certificate"})
	if r.RawBarePerCPUSec > 0 {
		fmt.Fprintf(w, "  raw CreateCertificate of a bare client certificate (no basic constraints, key identifiers, CRL distribution point): %.0f µs of CPU; CPU efficiency against it %.2f\n",
			1e6/r.RawBarePerCPUSec, r.CPUEfficiencyToBare)
	}
	fmt.Fprintf(w, "  sample: %d certificates fetched, %d failed to parse, chain to the CA or carry the CSR's key\n", r.Sampled, r.SampleFailures)
	printCostSplit(w, r.CostSplit, r.floor)
}

// runPCA creates a root CA through the ACM-PCA API, makes n keys and
// CSRs, drives IssueCertificate with them, and then measures the floors.
func runPCA(ctx context.Context, s *devServer, n, conc int, dur time.Duration, pid int, log io.Writer) (*PCAReport, error) {
	pca := acmpca.NewFromConfig(s.Config)

	fmt.Fprintln(log, "creating a root CA…")
	caArn, caCert, err := SetupCA(ctx, pca)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "making %d P-256 keys and CSRs…\n", n)
	csrs, err := NewCSRs(n)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(log, "signing requests…")
	target := PCATarget{Endpoint: s.Endpoint, Region: s.Region, CAArn: caArn}
	reqs, err := csrs.SignIssue(ctx, target, s.Admin, time.Now())
	if err != nil {
		return nil, err
	}
	like, err := IssueOne(ctx, pca, caArn, csrs, 0)
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(log, "measuring raw x509.CreateCertificate of the same certificate…")
	bound, err := csrs.RawCreateBound(3*time.Second, like)
	if err != nil {
		return nil, err
	}
	bare, err := csrs.RawCreateBound(3*time.Second, nil)
	if err != nil {
		return nil, err
	}
	issued := NewIssued(n)
	m := measure(ctx, s, reqs, Options{Concurrency: conc, Duration: dur, Client: s.Client, Accept: issued.Accept}, bound, pid, log)
	sample := issued.Sample(sampleSize)
	bad := VerifySample(ctx, pca, caArn, caCert, csrs, issued, sample)
	for _, err := range bad {
		fmt.Fprintf(log, "sampled certificate: %v\n", err)
	}
	// The floor phase needs the server's CPU time to mean anything.
	var floor Measurement
	if pid > 0 {
		if floor, err = measureRequestFloor(ctx, s, target, conc, floorDuration(dur), pid, log); err != nil {
			return nil, err
		}
	}
	fmt.Fprintln(log, "measuring the crypto floor (CSR check + one P-256 signature)…")
	cryptoFloor, err := csrs.CryptoFloor(3 * time.Second)
	if err != nil {
		return nil, err
	}
	return &PCAReport{
		API: "acm-pca", CSRs: n, Concurrency: conc, Summary: m.summary(),
		CertificatesPerSecond: m.Result.PerSecond, RawCreatePerSec: bound.PerSecond,
		CertsPerCPUSec: m.PerServerCPUSecond(), RawCreatePerCPUSec: bound.PerCPUSecond,
		RawBarePerCPUSec: bare.PerCPUSecond, CPUEfficiencyToBare: m.against(bare).CPUEfficiency(),
		WritesPerCertificate: m.WritesPerRequest(),
		Sampled:              len(sample), SampleFailures: len(bad),
		FloorRequests: floor.Result.Requests, FloorFailures: floor.Result.Failures(),
		FloorServerCPUSeconds: floor.ServerCPUSeconds, FloorStoreWrites: floor.StoreWrites,
		CryptoFloorPerCPUSec: cryptoFloor.PerCPUSecond,
		CostSplit:            splitCost(bound.PerCPUSecond, m.PerServerCPUSecond(), cryptoFloor.PerCPUSecond, floor.PerServerCPUSecond()),
		m:                    m, floor: floor,
	}, nil
}
