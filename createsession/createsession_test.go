package createsession

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/iamra/iamra/assumer"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/sigv4x509"
	"github.com/iamra/iamra/snapshot"
	"github.com/iamra/iamra/sts"
	"github.com/iamra/iamra/subject"
	"github.com/iamra/iamra/trust"
	"github.com/iamra/iamra/trust/trusttest"
	"github.com/iamra/iamra/x509attr"
)

func errMessage(err error) string {
	e := awserr.As(err)
	return e.Code + ": " + e.Message
}

var now = time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)

type fixture struct {
	pki     *trusttest.PKI
	root    *trusttest.Cert
	profile rolesanywhere.Profile
	role    sts.Role
	crls    []trust.CRL
	ring    *credentials.KeyRing
}

func newFixture(t *testing.T) *fixture {
	pki := trusttest.New(t, nil, now)
	ring, err := credentials.NewKeyRing(now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{
		pki:  pki,
		root: pki.Root("Test Root CA"),
		profile: rolesanywhere.Profile{ProfileArn: profARN, Enabled: true, RoleArns: []string{roleARN}, DurationSeconds: 3600,
			AttributeMappings: rolesanywhere.DefaultAttributeMappings()},
		role: sts.Role{Arn: roleARN, RoleName: "test-role", RoleID: "AROAEXAMPLEEXAMPLE1", MaxSessionDuration: 43200},
		ring: ring,
	}
}

type observed struct{ obs []subject.Observation }

func (o *observed) Observe(ob subject.Observation) string {
	o.obs = append(o.obs, ob)
	return "arn:aws:rolesanywhere:us-east-1:123456789012:subject/x"
}

func (f *fixture) service(rec Recorder) *Service {
	anchor := &snapshot.Anchor{
		Detail:      rolesanywhere.TrustAnchor{TrustAnchorArn: taARN, Enabled: true},
		Trust:       trust.NewAnchor("a1b2c3d4-0000-1111-2222-333344445555", taARN, []*x509.Certificate{f.root.Cert}, true),
		Revocations: trust.NewRevocationIndex(f.crls),
	}
	snap := snapshot.New([]*snapshot.Anchor{anchor}, []rolesanywhere.Profile{f.profile}, []sts.Role{f.role})
	return &Service{
		Config:  func() *snapshot.Snapshot { return snap },
		Assumer: &assumer.Assumer{Roles: func() assumer.Roles { return snap }, Ring: f.ring},
		Subject: rec,
		Now:     func() time.Time { return now },
	}
}

// request builds a CreateSession request signed by leaf as the official
// client would.
func request(t *testing.T, leaf *trusttest.Cert, chain []*x509.Certificate, body, region string, at time.Time) (*http.Request, []byte) {
	q := url.Values{"profileArn": {profARN}, "roleArn": {roleARN}, "trustAnchorArn": {taARN}}
	req, err := http.NewRequest(http.MethodPost, "https://127.0.0.1:8443/sessions?"+q.Encode(), bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := sigv4x509.Sign(req, []byte(body), sigv4x509.SignInput{Certificate: leaf.Cert, Chain: chain, Signer: leaf.Key, Region: region, Time: at}); err != nil {
		t.Fatal(err)
	}
	return req, []byte(body)
}

func TestCreateSessionSuccess(t *testing.T) {
	f := newFixture(t)
	leaf := f.pki.Leaf(f.root, "workload", trusttest.Subject(pkix.Name{CommonName: "workload", Organization: []string{"Example"}}))
	rec := &observed{}
	svc := f.service(rec)
	req, body := request(t, leaf, nil, `{"durationSeconds":900}`, "us-east-1", now)
	res, tr, err := svc.CreateSession(context.Background(), req, body, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	out := res.Session
	serial := x509attr.SerialHex(leaf.Cert.SerialNumber)
	if out.AssumedRoleArn != "arn:aws:sts::123456789012:assumed-role/test-role/"+serial {
		t.Errorf("assumed role %q", out.AssumedRoleArn)
	}
	if out.AssumedRoleID != "AROAEXAMPLEEXAMPLE1:"+serial || out.SourceIdentity != "CN=workload" {
		t.Errorf("id %q source identity %q", out.AssumedRoleID, out.SourceIdentity)
	}
	if !out.Credentials.Expiration.Equal(now.Add(900 * time.Second)) {
		t.Errorf("expiration %v", out.Credentials.Expiration)
	}
	sess, err := credentials.Open(out.Credentials.SessionToken, out.Credentials.AccessKeyID, f.ring, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []sts.Tag{{Key: "x509Issuer/CN", Value: "Test Root CA"}, {Key: "x509Subject/CN", Value: "workload"}, {Key: "x509Subject/O", Value: "Example"}}
	got := slices.Clone(sess.Tags)
	slices.SortFunc(got, func(a, b sts.Tag) int {
		if a.Key < b.Key {
			return -1
		}
		return 1
	})
	if !slices.Equal(got, want) {
		t.Errorf("tags %v, want %v", got, want)
	}
	if sess.SecretAccessKey != out.Credentials.SecretAccessKey || sess.RoleSessionName != serial {
		t.Errorf("sealed session does not match the credentials: %+v", sess)
	}
	if len(rec.obs) != 1 || rec.obs[0].Failed || tr.Serial() != serial {
		t.Errorf("subject observations %+v", rec.obs)
	}
}

func TestCreateSessionRejections(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fixture) (leaf *trusttest.Cert, body, region string)
		wantErr    string
		wantReason string
		recorded   bool // the attempt is recorded on the subject as failed
	}{
		{name: "expired leaf", setup: func(f *fixture) (*trusttest.Cert, string, string) {
			return f.pki.Leaf(f.root, "old", trusttest.Validity(now.Add(-48*time.Hour), now.Add(-time.Hour))), "", "us-east-1"
		}, wantErr: "AccessDeniedException: Untrusted signing certificate", wantReason: trust.ReasonCertExpired},
		{name: "leaf is a CA", setup: func(f *fixture) (*trusttest.Cert, string, string) {
			return f.pki.Intermediate(f.root, "sub"), "", "us-east-1"
		}, wantErr: "AccessDeniedException: Untrusted signing certificate", wantReason: trust.ReasonCertIsCA},
		{name: "other CA", setup: func(f *fixture) (*trusttest.Cert, string, string) {
			other := f.pki.Root("Other")
			return f.pki.Leaf(other, "w"), "", "us-east-1"
		}, wantErr: "AccessDeniedException: Untrusted signing certificate", wantReason: trust.ReasonChainUntrusted, recorded: true},
		{name: "revoked leaf", setup: func(f *fixture) (*trusttest.Cert, string, string) {
			leaf := f.pki.Leaf(f.root, "w")
			f.crls = []trust.CRL{{ARN: "crl", List: f.pki.CRL(f.root, trusttest.Revoke(leaf.Cert))}}
			return leaf, "", "us-east-1"
		}, wantErr: "AccessDeniedException: Untrusted signing certificate", wantReason: trust.ReasonChainRevoked, recorded: true},
		{name: "scope region differs from the trust anchor's", setup: func(f *fixture) (*trusttest.Cert, string, string) {
			return f.pki.Leaf(f.root, "w"), "", "eu-west-1"
		}, wantErr: "AccessDeniedException: Invalid signature", wantReason: "sig.region_mismatch", recorded: true},
		{name: "profile disabled", setup: func(f *fixture) (*trusttest.Cert, string, string) {
			f.profile.Enabled = false
			return f.pki.Leaf(f.root, "w"), "", "us-east-1"
		}, wantErr: "AccessDeniedException: Invalid or empty profile provided.", wantReason: "profile.disabled", recorded: true},
		{name: "session name not accepted", setup: func(f *fixture) (*trusttest.Cert, string, string) {
			return f.pki.Leaf(f.root, "w"), `{"roleSessionName":"node-1"}`, "us-east-1"
		}, wantErr: "AccessDeniedException: Not authorized to set roleSessionName.", wantReason: "profile.session_name_not_accepted", recorded: true},
		{name: "invalid session name", setup: func(f *fixture) (*trusttest.Cert, string, string) {
			f.profile.AcceptRoleSessionName = true
			return f.pki.Leaf(f.root, "w"), `{"roleSessionName":"no spaces allowed"}`, "us-east-1"
		}, wantErr: `ValidationException: 1 validation error detected: Value 'no spaces allowed' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]* and have length between 2 and 64`,
			wantReason: "validation.constraint", recorded: true},
		{name: "duration beyond the role maximum", setup: func(f *fixture) (*trusttest.Cert, string, string) {
			f.role.MaxSessionDuration = 3600
			f.profile.DurationSeconds = 7200
			return f.pki.Leaf(f.root, "w"), "", "us-east-1"
		}, wantErr: "ValidationException: The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", wantReason: "role.duration_exceeds_max", recorded: true},
		{name: "tag value AWS refuses", setup: func(f *fixture) (*trusttest.Cert, string, string) {
			return f.pki.Leaf(f.root, "w", trusttest.Subject(pkix.Name{CommonName: "bad (value)"})), "", "us-east-1"
		}, wantErr: "AccessDeniedException: some attributes fail to be mapped into session tags", wantReason: "tags.invalid_value", recorded: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			leaf, body, region := tc.setup(f)
			rec := &observed{}
			svc := f.service(rec)
			req, b := request(t, leaf, nil, body, region, now)
			_, _, err := svc.CreateSession(context.Background(), req, b, "127.0.0.1")
			if err == nil {
				t.Fatal("accepted")
			}
			e := awserr.As(err)
			if got := errMessage(err); got != tc.wantErr && !(tc.wantReason == "tags.invalid_value" && bytes.HasPrefix([]byte(got), []byte(tc.wantErr))) {
				t.Fatalf("error %q, want %q", got, tc.wantErr)
			}
			if e.Reason != tc.wantReason {
				t.Errorf("reason %q, want %q (detail: %s)", e.Reason, tc.wantReason, e.Detail)
			}
			if e.Detail == "" {
				t.Error("no operator detail")
			}
			if tc.recorded != (len(rec.obs) == 1 && rec.obs[0].Failed) {
				t.Errorf("recorded %v, observations %+v", tc.recorded, rec.obs)
			}
		})
	}
}
