package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/uuid"

	"github.com/iamra/iamra/iam"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/server"
	"github.com/iamra/iamra/sigv4x509"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/trust/trusttest"
)

// iamServer is the real server (its root handler: CreateSession, IAM, STS,
// the authz endpoint, trust-policy evaluation) over TLS, on a clock the
// tests move.
type iamServer struct {
	*testServer
	URL    string
	Client *http.Client
	IAMDir *iam.Directory
	Audit  *lockedBuffer // the server's audit log (flushed by auditEvents)
	now    *safeClock
}

// authzPath is where the server serves the authz endpoint.
const authzPath = server.AuthzPath

func startIAMServer(t testing.TB) *iamServer {
	t.Helper()
	ts := newServer(t, time.Now().UTC().Truncate(time.Second))
	srv := httptest.NewUnstartedServer(ts.Handler())
	tc, err := ts.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = tc
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ts.State.CA)
	return &iamServer{testServer: ts, URL: srv.URL, IAMDir: ts.IAM, Audit: ts.audit, now: ts.clock,
		Client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

func (s *iamServer) adminCreds() aws.Credentials {
	k := s.State.AdminKeys[0]
	return aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey}
}

func (s *iamServer) iamClient(c aws.Credentials) *awsiam.Client {
	return awsiam.New(awsiam.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), HTTPClient: s.Client,
		HTTPSignerV4: clockSigner{s.now},
		Credentials:  awscreds.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
}

func (s *iamServer) stsClient(c aws.Credentials) *awssts.Client {
	return awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), HTTPClient: s.Client,
		HTTPSignerV4: clockSigner{s.now},
		Credentials:  awscreds.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
}

// clockSigner signs with the server's clock, so that tests may move it
// (to expire a session) without the signature falling out of the skew
// window.
type clockSigner struct{ c *safeClock }

func (cs clockSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, creds, r, payloadHash, service, region, cs.c.Now(), optFns...)
}

// pkiFixture is a CA registered as an enabled trust anchor with a profile
// for the given roles.
type pkiFixture struct {
	pki     *trusttest.PKI
	root    *trusttest.Cert
	anchor  string
	profile string
}

func (s *iamServer) seedAnchor(t testing.TB, roleArns []string, acceptSessionName bool) *pkiFixture {
	t.Helper()
	pki := trusttest.New(t, nil, s.now.Now())
	root := pki.Root("IAM Test Root")
	id := uuid.NewString()
	pid := uuid.NewString()
	f := &pkiFixture{pki: pki, root: root,
		anchor:  "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/" + id,
		profile: "arn:aws:rolesanywhere:us-east-1:123456789012:profile/" + pid}
	now := rolesanywhere.NewTime(s.now.Now())
	s.put(t, store.KindTrustAnchor, id, rolesanywhere.TrustAnchor{
		TrustAnchorID: id, TrustAnchorArn: f.anchor, Name: "iam-e2e", Enabled: true,
		Source:    rolesanywhere.Source{SourceType: rolesanywhere.SourceCertificateBundle, SourceData: rolesanywhere.SourceData{X509CertificateData: root.PEM()}},
		CreatedAt: now, UpdatedAt: now, NotificationSettings: rolesanywhere.DefaultNotificationSettings(),
	})
	s.put(t, store.KindProfile, pid, rolesanywhere.Profile{
		ProfileID: pid, ProfileArn: f.profile, Name: "iam-e2e", Enabled: true, RoleArns: roleArns,
		DurationSeconds: 3600, AcceptRoleSessionName: acceptSessionName, AttributeMappings: rolesanywhere.DefaultAttributeMappings(),
		CreatedAt: now, UpdatedAt: now,
	})
	return f
}

// createSession signs a CreateSession with a leaf of CN cn and returns the
// credentials, or the status and error body.
func (s *iamServer) createSession(t testing.TB, f *pkiFixture, cn, roleArn, sessionName string) (aws.Credentials, int, string) {
	t.Helper()
	if err := s.Snapshot.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	leaf := f.pki.Leaf(f.root, cn)
	q := url.Values{"profileArn": {f.profile}, "roleArn": {roleArn}, "trustAnchorArn": {f.anchor}}
	body := `{"durationSeconds":900}`
	if sessionName != "" {
		body = fmt.Sprintf(`{"durationSeconds":900,"roleSessionName":%q}`, sessionName)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/sessions?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := sigv4x509.Sign(req, []byte(body), sigv4x509.SignInput{Certificate: leaf.Cert, Signer: leaf.Key, Region: "us-east-1", Time: s.now.Now()}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return aws.Credentials{}, resp.StatusCode, string(raw)
	}
	var out createSessionResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	c := out.CredentialSet[0].Credentials
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, resp.StatusCode, ""
}
