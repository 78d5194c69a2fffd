package loadtest

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
)

// Issued records, per CSR, the ARN of the latest certificate the load got
// for it, so a sample can be checked after the run.
type Issued struct {
	arns []atomic.Pointer[string]
}

// NewIssued tracks n CSRs.
func NewIssued(n int) *Issued { return &Issued{arns: make([]atomic.Pointer[string], n)} }

// Accept is Options.Accept for IssueCertificate requests: a success is a
// 200 whose body names the certificate.
func (s *Issued) Accept(i, status int, body []byte) bool {
	if status != http.StatusOK {
		return false
	}
	var out struct{ CertificateArn string }
	if json.Unmarshal(body, &out) != nil || out.CertificateArn == "" {
		return false
	}
	s.arns[i].Store(&out.CertificateArn)
	return true
}

// Arn is the ARN recorded for CSR i ("" for none).
func (s *Issued) Arn(i int) string {
	if p := s.arns[i].Load(); p != nil {
		return *p
	}
	return ""
}

// Sample returns up to n CSRs that got a certificate, spread evenly over
// all that did, so early and late issuances are both checked.
func (s *Issued) Sample(n int) []int {
	var got []int
	for i := range s.arns {
		if s.arns[i].Load() != nil {
			got = append(got, i)
		}
	}
	if len(got) <= n {
		return got
	}
	out := make([]int, n)
	for j := range out {
		out[j] = got[j*len(got)/n]
	}
	return out
}
