// Package loadtest measures, against a running server, CreateSession
// throughput and private-CA issuance through the ACM-PCA API, each beside
// the bound that the unavoidable cryptography puts on it, in the same
// run, so results are ratios that mean something on a shared, noisy
// machine.
//
// The load is pre-signed: every request is signed before the clock starts
// (a signature stays valid for the server's clock-skew window), so the
// client spends its CPU on HTTP and TLS only, and the server's work is
// what is measured. Each request carries a distinct certificate or CSR,
// so the server sees as many subjects or keys as there are requests
// prepared.
package loadtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/sigv4x509"
)

// KeyType is the leaf certificates' key type.
type KeyType string

const (
	P256    KeyType = "p256"
	RSA2048 KeyType = "rsa2048"
)

// Leaf is a workload certificate and its key.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Fixture is a CA and the leaves it issued.
type Fixture struct {
	CA     *x509.Certificate
	Leaves []Leaf
}

// rsaKeys bounds RSA key generation (tens of milliseconds a key): RSA
// leaves share a few keys, each certificate is still distinct.
const rsaKeys = 8

// NewFixture issues n leaf certificates of type kt from a new P-256 CA.
func NewFixture(kt KeyType, n int, now time.Time) (*Fixture, error) {
	caKey, err := ca.GenerateKey("EC_prime256v1", rand.Reader)
	if err != nil {
		return nil, err
	}
	root, err := ca.NewSelfSignedRoot(pkix.Name{CommonName: "iamra load test CA"}, caKey, now.Add(-time.Hour), now.Add(24*time.Hour), rand.Reader)
	if err != nil {
		return nil, err
	}
	f := &Fixture{CA: root}
	var shared []crypto.Signer
	for i := 0; i < n; i++ {
		var key crypto.Signer
		switch kt {
		case P256:
			key, err = ca.GenerateKey("EC_prime256v1", rand.Reader)
		case RSA2048:
			if len(shared) < rsaKeys {
				k, err := ca.GenerateKey("RSA_2048", rand.Reader)
				if err != nil {
					return nil, err
				}
				shared = append(shared, k)
			}
			key = shared[i%len(shared)]
		default:
			return nil, fmt.Errorf("loadtest: key type %q (want p256 or rsa2048)", kt)
		}
		if err != nil {
			return nil, err
		}
		cert, err := ca.Issue(root, caKey, ca.IssueRequest{
			Template: ca.TemplateEndEntityClientAuth, PublicKey: key.Public(),
			Subject:   pkix.Name{CommonName: fmt.Sprintf("load-%06d", i), Organization: []string{"iamra load"}},
			NotBefore: now.Add(-time.Minute), NotAfter: now.Add(12 * time.Hour),
		}, rand.Reader)
		if err != nil {
			return nil, err
		}
		f.Leaves = append(f.Leaves, Leaf{Cert: cert, Key: key})
	}
	return f, nil
}

// Target names what the requests ask for.
type Target struct {
	Endpoint       string // https://host:port
	Region         string
	TrustAnchorArn string
	ProfileArn     string
	RoleArn        string
}

// Prepared is a signed request ready to send any number of times.
type Prepared struct {
	URL    string
	Header http.Header
	Body   []byte
}

// body is what the official client sends.
var body = []byte(`{"durationSeconds":3600}`)

// Sign signs one request per leaf, as the official client shapes them.
func (f *Fixture) Sign(t Target, now time.Time) ([]*Prepared, error) {
	q := url.Values{"profileArn": {t.ProfileArn}, "roleArn": {t.RoleArn}, "trustAnchorArn": {t.TrustAnchorArn}}
	u := t.Endpoint + "/sessions?" + q.Encode()
	out := make([]*Prepared, 0, len(f.Leaves))
	for _, l := range f.Leaves {
		req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if err := sigv4x509.Sign(req, body, sigv4x509.SignInput{Certificate: l.Cert, Signer: l.Key, Region: t.Region, Time: now}); err != nil {
			return nil, err
		}
		out = append(out, &Prepared{URL: u, Header: req.Header, Body: body})
	}
	return out, nil
}

// Options shape a run.
type Options struct {
	Concurrency int
	Duration    time.Duration
	Client      *http.Client
	// MaxRequests stops the run early (0: no limit).
	MaxRequests int64
	// Accept tells whether the response to reqs[i] succeeded. Workers call
	// it at once, so it must be safe for concurrent use. nil accepts every
	// response; Statuses still tells them apart.
	Accept func(i, status int, body []byte) bool
}

// Result is what a run measured.
type Result struct {
	Requests int64
	Statuses map[int]int64
	// Rejected counts responses Options.Accept refused.
	Rejected  int64
	Errors    int64
	Elapsed   time.Duration
	PerSecond float64
	P50, P99  time.Duration
}

// Run sends the prepared requests round-robin from Concurrency workers
// over keep-alive connections until Duration passes or MaxRequests are
// sent. Round-robin means no request is sent twice before every one was
// sent once.
func Run(ctx context.Context, reqs []*Prepared, o Options) Result {
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var next, sent atomic.Int64
	type local struct {
		lat      []time.Duration
		statuses map[int]int64
		rejected int64
		errs     int64
	}
	locals := make([]*local, o.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range o.Concurrency {
		l := &local{statuses: map[int]int64{}}
		locals[w] = l
		wg.Go(func() {
			var body bytes.Buffer
			for ctx.Err() == nil {
				if o.MaxRequests > 0 && sent.Add(1) > o.MaxRequests {
					return
				}
				i := int(next.Add(1)-1) % len(reqs)
				p := reqs[i]
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(p.Body))
				req.Header = p.Header.Clone()
				t0 := time.Now()
				resp, err := o.Client.Do(req)
				if err == nil {
					body.Reset()
					_, err = body.ReadFrom(resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					if ctx.Err() == nil {
						l.errs++
					}
					continue
				}
				l.lat = append(l.lat, time.Since(t0))
				l.statuses[resp.StatusCode]++
				if o.Accept != nil && !o.Accept(i, resp.StatusCode, body.Bytes()) {
					l.rejected++
				}
			}
		})
	}
	wg.Wait()
	r := Result{Elapsed: time.Since(start), Statuses: map[int]int64{}}
	var all []time.Duration
	for _, l := range locals {
		all = append(all, l.lat...)
		r.Errors += l.errs
		r.Rejected += l.rejected
		for k, v := range l.statuses {
			r.Statuses[k] += v
		}
	}
	r.Requests = int64(len(all))
	r.PerSecond = float64(r.Requests) / r.Elapsed.Seconds()
	slices.Sort(all)
	if len(all) > 0 {
		r.P50 = all[len(all)/2]
		r.P99 = all[len(all)*99/100]
	}
	return r
}

// Failures counts requests that did not succeed: refused responses and
// transport errors.
func (r Result) Failures() int64 { return r.Rejected + r.Errors }

// AcceptStatus accepts the responses with status code want.
func AcceptStatus(want int) func(i, status int, body []byte) bool {
	return func(_, status int, _ []byte) bool { return status == want }
}

// CryptoBound measures, on all cores for about d, the cryptography no
// CreateSession can avoid: parse the leaf, verify its signature by the CA,
// and verify one request signature with the leaf's key.
func (f *Fixture) CryptoBound(d time.Duration) (Bound, error) {
	digest := sha256.Sum256([]byte("AWS4-X509-ECDSA-SHA256\n20261122T000000Z\n20261122/us-east-1/rolesanywhere/aws4_request\n0000"))
	type sample struct {
		der []byte
		sig []byte
	}
	// Many distinct certificates, as the server sees, so caches behave
	// alike; bounded because RSA signing the samples is slow.
	samples := make([]sample, min(len(f.Leaves), 1024))
	for i := range samples {
		l := f.Leaves[i]
		sig, err := l.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return Bound{}, err
		}
		samples[i] = sample{der: l.Cert.Raw, sig: sig}
	}
	return measureBound(d, func(_, i int) error {
		s := samples[i%len(samples)]
		c, err := x509.ParseCertificate(s.der)
		if err != nil || c.CheckSignatureFrom(f.CA) != nil {
			return errCryptoSelfCheck
		}
		ok := false
		switch pub := c.PublicKey.(type) {
		case *ecdsa.PublicKey:
			ok = ecdsa.VerifyASN1(pub, digest[:], s.sig)
		case *rsa.PublicKey:
			ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], s.sig) == nil
		}
		if !ok {
			return errCryptoSelfCheck
		}
		return nil
	})
}

var errCryptoSelfCheck = errors.New("loadtest: crypto bound self-check failed")
