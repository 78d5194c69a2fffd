package sigv4

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iamra/iamra/awserr"
)

// Test credentials. The temporary one needs its token, as a real session
// would.
var (
	longTerm = aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	session  = aws.Credentials{AccessKeyID: "ASIAQWERTYUIOPASDFGH", SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
		SessionToken: "AQoDYXdzEJr//////////wEa+token/with+base64=="}

	// Credentials the server must refuse: a known key with a wrong
	// secret, an unknown key, a temporary key without its token.
	wrongSecret = aws.Credentials{AccessKeyID: longTerm.AccessKeyID, SecretAccessKey: "not-the-secret"}
	unknown     = aws.Credentials{AccessKeyID: "AKIAUNKNOWNUNKNOWN00", SecretAccessKey: "x"}
	tokenless   = aws.Credentials{AccessKeyID: session.AccessKeyID, SecretAccessKey: session.SecretAccessKey}
)

// lookup knows the two test credentials; a temporary key needs its token.
func lookup(_ context.Context, akid, token string) (string, error) {
	for _, c := range []aws.Credentials{longTerm, session} {
		if c.AccessKeyID == akid && c.SessionToken == token {
			return c.SecretAccessKey, nil
		}
	}
	return "", awserr.New("InvalidClientTokenId", http.StatusForbidden, msgInvalidToken).Because("test.unknown", "unknown key %s", akid)
}

// peer is a loopback server that verifies every request the way iamra's
// router does: ParseRequest picks the service, and with it the dialect;
// Verify checks the signature. It answers with a minimal success body so
// that the SDK call completes, or with the AWS error envelope of the
// service's protocol so that the SDK surfaces the error code.
type peer struct {
	*httptest.Server
	mu   sync.Mutex
	res  *Result
	err  error
	opts VerifyOptions
}

func newPeer(t *testing.T) *peer {
	p := &peer{opts: VerifyOptions{Lookup: lookup}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *peer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	cred, _, perr := ParseRequest(r)
	d := DialectFor(cred.Service)
	opts := p.opts
	opts.Now, opts.Dialect = time.Now(), d
	res, err := Verify(r.Context(), r, body, opts)
	if perr != nil && err == nil {
		err = fmt.Errorf("ParseRequest failed but Verify passed: %v", perr)
	}
	p.mu.Lock()
	p.res, p.err = res, err
	p.mu.Unlock()
	if err != nil {
		writeError(w, d, err)
		return
	}
	switch {
	case cred.Service == "sts":
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":"123456789012","Arn":"arn:aws:sts::123456789012:assumed-role/r/s","UserId":"AROAEXAMPLE:s"},"ResponseMetadata":{"RequestId":"1"}}}`)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/u</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	case cred.Service == "iam":
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<ListRolesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListRolesResult><IsTruncated>false</IsTruncated><Roles/></ListRolesResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></ListRolesResponse>`)
	default:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	}
}

func writeError(w http.ResponseWriter, d Dialect, err error) {
	e := awserr.As(err)
	if d == Query {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(e.Status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>1</RequestId></ErrorResponse>`, e.Code, e.Message)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", e.Code)
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}

func (p *peer) last() (*Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.res, p.err
}

func provider(c aws.Credentials) aws.CredentialsProviderFunc {
	return func(context.Context) (aws.Credentials, error) { return c, nil }
}

// call makes one SDK request of the given service to p with creds.
func (p *peer) call(t *testing.T, service string, creds aws.Credentials) error {
	t.Helper()
	ctx := context.Background()
	ep := aws.String(p.URL)
	region := "eu-west-3"
	switch service {
	case "sts":
		c := sts.New(sts.Options{Region: region, BaseEndpoint: ep, Credentials: provider(creds), RetryMaxAttempts: 1})
		_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	case "iam":
		c := iam.New(iam.Options{Region: region, BaseEndpoint: ep, Credentials: provider(creds), RetryMaxAttempts: 1})
		_, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/path with space/é/"), MaxItems: aws.Int32(5)})
		return err
	case "rolesanywhere":
		c := rolesanywhere.New(rolesanywhere.Options{Region: region, BaseEndpoint: ep, Credentials: provider(creds), RetryMaxAttempts: 1})
		_, err := c.ListTrustAnchors(ctx, &rolesanywhere.ListTrustAnchorsInput{NextToken: aws.String("eyJrIjoidiJ9+/="), PageSize: aws.Int32(10)})
		return err
	case "rolesanywhere-path":
		c := rolesanywhere.New(rolesanywhere.Options{Region: region, BaseEndpoint: ep, Credentials: provider(creds), RetryMaxAttempts: 1})
		_, err := c.GetTrustAnchor(ctx, &rolesanywhere.GetTrustAnchorInput{TrustAnchorId: aws.String("0b5c4a2e-0f5a-4e4b-8f3c-2b1a9d8e7f60")})
		return err
	case "rolesanywhere-arn":
		c := rolesanywhere.New(rolesanywhere.Options{Region: region, BaseEndpoint: ep, Credentials: provider(creds), RetryMaxAttempts: 1})
		_, err := c.ListTagsForResource(ctx, &rolesanywhere.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:rolesanywhere:eu-west-3:123456789012:trust-anchor/0b5c4a2e")})
		return err
	case "rolesanywhere-post":
		c := rolesanywhere.New(rolesanywhere.Options{Region: region, BaseEndpoint: ep, Credentials: provider(creds), RetryMaxAttempts: 1})
		_, err := c.UntagResource(ctx, &rolesanywhere.UntagResourceInput{ResourceArn: aws.String("arn:aws:rolesanywhere:eu-west-3:123456789012:profile/p"), TagKeys: []string{"a b", "ü"}})
		return err
	case "acm-pca":
		c := acmpca.New(acmpca.Options{Region: region, BaseEndpoint: ep, Credentials: provider(creds), RetryMaxAttempts: 1})
		_, err := c.ListCertificateAuthorities(ctx, &acmpca.ListCertificateAuthoritiesInput{MaxResults: aws.Int32(3)})
		return err
	}
	t.Fatalf("no such service %s", service)
	return nil
}

func TestSDKClientsVerify(t *testing.T) {
	p := newPeer(t)
	want := map[string]string{"rolesanywhere-path": "rolesanywhere", "rolesanywhere-arn": "rolesanywhere", "rolesanywhere-post": "rolesanywhere"}
	for _, svc := range []string{"sts", "iam", "rolesanywhere", "rolesanywhere-path", "rolesanywhere-arn", "rolesanywhere-post", "acm-pca"} {
		for _, creds := range []aws.Credentials{longTerm, session} {
			t.Run(svc+"/"+creds.AccessKeyID[:4], func(t *testing.T) {
				if err := p.call(t, svc, creds); err != nil {
					t.Fatalf("SDK call failed: %v", err)
				}
				res, err := p.last()
				if err != nil {
					t.Fatal(err)
				}
				service := svc
				if w, ok := want[svc]; ok {
					service = w
				}
				if res.Service != service || res.Region != "eu-west-3" || res.AccessKeyID != creds.AccessKeyID ||
					res.SessionToken != creds.SessionToken || res.Presigned || len(res.Date) != 8 {
					t.Fatalf("result %+v", res)
				}
				if !contains(res.SignedHeaders, "host") || !contains(res.SignedHeaders, "x-amz-date") ||
					(creds.SessionToken != "") != contains(res.SignedHeaders, "x-amz-security-token") {
					t.Fatalf("signed headers %v", res.SignedHeaders)
				}
			})
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// The SDKs see AWS's codes for the protocol they speak.
func TestSDKClientsSeeAWSErrors(t *testing.T) {
	p := newPeer(t)
	tests := []struct {
		service string
		creds   aws.Credentials
		code    string
		message string
	}{
		{"sts", wrongSecret, "SignatureDoesNotMatch", msgMismatch},
		{"iam", wrongSecret, "SignatureDoesNotMatch", msgMismatch},
		{"rolesanywhere", wrongSecret, "InvalidSignatureException", msgMismatch},
		{"acm-pca", wrongSecret, "InvalidSignatureException", msgMismatch},
		{"sts", unknown, "InvalidClientTokenId", msgInvalidToken},
		{"rolesanywhere", unknown, "UnrecognizedClientException", msgInvalidToken},
		{"acm-pca", tokenless, "UnrecognizedClientException", msgInvalidToken},
		{"sts", tokenless, "InvalidClientTokenId", msgInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.service+"/"+tt.code, func(t *testing.T) {
			err := p.call(t, tt.service, tt.creds)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.code || ae.ErrorMessage() != tt.message {
				t.Fatalf("err = %v, want %s: %s", err, tt.code, tt.message)
			}
		})
	}
}

// eksToken presigns GetCallerIdentity the way aws-iam-authenticator and
// `aws eks get-token` do: the cluster id as a signed header that is not
// in the URL, X-Amz-Expires=60 hoisted into the query.
func eksToken(t *testing.T, endpoint string, creds aws.Credentials) string {
	t.Helper()
	c := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: provider(creds)})
	req, err := sts.NewPresignClient(c).PresignGetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{},
		func(po *sts.PresignOptions) {
			po.ClientOptions = append(po.ClientOptions, func(o *sts.Options) {
				o.APIOptions = append(o.APIOptions,
					smithyhttp.AddHeaderValue("x-k8s-aws-id", "my-cluster"),
					smithyhttp.AddHeaderValue("X-Amz-Expires", "60"))
			})
		})
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != http.MethodGet || req.SignedHeader.Get("X-K8s-Aws-Id") != "my-cluster" {
		t.Fatalf("presigned %s with headers %v", req.Method, req.SignedHeader)
	}
	return "k8s-aws-v1." + base64.RawURLEncoding.EncodeToString([]byte(req.URL))
}

func TestPresignedGetCallerIdentityEKSToken(t *testing.T) {
	p := newPeer(t)
	p.opts.PresignedLifetime = 15 * time.Minute
	for _, creds := range []aws.Credentials{session, longTerm} {
		tok := eksToken(t, p.URL, creds)
		// The authenticator's side: decode, re-add the cluster header, ask
		// for JSON.
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, "k8s-aws-v1."))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(string(raw))
		q := u.Query()
		if q.Get("X-Amz-Expires") != "60" || q.Get("X-Amz-SignedHeaders") != "host;x-k8s-aws-id" ||
			q.Get("Action") != "GetCallerIdentity" || q.Get("X-Amz-Security-Token") != creds.SessionToken {
			t.Fatalf("presigned URL %s", raw)
		}
		req, _ := http.NewRequest(http.MethodGet, string(raw), nil)
		req.Header.Set("x-k8s-aws-id", "my-cluster")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res, verr := p.last()
		if resp.StatusCode != 200 || verr != nil {
			t.Fatalf("status %d %s: %v", resp.StatusCode, body, verr)
		}
		if !res.Presigned || res.Service != "sts" || res.Region != "us-east-1" || res.SessionToken != creds.SessionToken ||
			strings.Join(res.SignedHeaders, ";") != "host;x-k8s-aws-id" {
			t.Fatalf("result %+v", res)
		}

		// Without the cluster header (or with another cluster's) the
		// signature does not match: the token is bound to its cluster.
		for _, cluster := range []string{"", "other-cluster"} {
			req, _ = http.NewRequest(http.MethodGet, string(raw), nil)
			if cluster != "" {
				req.Header.Set("x-k8s-aws-id", cluster)
			}
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if _, verr := p.last(); resp.StatusCode != 403 || awserr.As(verr).Code != "SignatureDoesNotMatch" {
				t.Fatalf("cluster %q: status %d, %v", cluster, resp.StatusCode, verr)
			}
		}
	}
}
