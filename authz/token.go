package authz

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/iamra/iamra/awserr"
)

// TokenPrefix starts an EKS-style token.
const TokenPrefix = "k8s-aws-v1."

// maxTokenLen bounds what VerifyToken decodes: a presigned URL with an
// iamra session token is a few kilobytes.
const maxTokenLen = 16 << 10

// ClusterIDHeader is the signed header that binds a token to a cluster.
const ClusterIDHeader = "x-k8s-aws-id"

// tokenParams are the query parameters a GetCallerIdentity token may
// carry, lower-cased (aws-iam-authenticator accepts the same set).
var tokenParams = map[string]bool{
	"action": true, "version": true, "x-amz-algorithm": true, "x-amz-credential": true, "x-amz-date": true,
	"x-amz-expires": true, "x-amz-security-token": true, "x-amz-signature": true, "x-amz-signedheaders": true,
	"x-amz-user-agent": true,
}

func badToken(format string, args ...any) *awserr.Error {
	return awserr.New("InvalidToken", http.StatusUnauthorized, "The token is not a valid k8s-aws-v1 token.").
		Because("authz.token_malformed", format, args...)
}

// VerifyToken verifies an EKS-style token, as aws-iam-authenticator and
// `aws eks get-token` make them: "k8s-aws-v1." and the base64url
// (unpadded) of a presigned GET GetCallerIdentity URL whose signature
// covers the x-k8s-aws-id header, which is not in the URL: clusterID is
// put back before verifying, so a token only verifies for its cluster.
// The URL's host is used as signed; tokens stay valid 15 minutes after
// X-Amz-Date whatever X-Amz-Expires says, as with AWS STS.
func (v *Verifier) VerifyToken(ctx context.Context, token, clusterID string) (*Principal, error) {
	r, err := TokenRequest(ctx, token, clusterID)
	if err != nil {
		return nil, err
	}
	return v.Authenticate(ctx, r, nil, Options{Service: "sts", PresignedLifetime: StandardPresignedLifetime})
}

// TokenRequest decodes an EKS-style token into the request it presigns,
// with the cluster header set. It checks the shape only.
func TokenRequest(ctx context.Context, token, clusterID string) (*http.Request, error) {
	if len(token) > maxTokenLen {
		return nil, badToken("token is %d characters, more than %d", len(token), maxTokenLen)
	}
	enc, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok {
		return nil, badToken("token does not start with %q", TokenPrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(enc, "="))
	if err != nil {
		return nil, badToken("token is not base64url: %v", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return nil, badToken("token does not hold a URL: %v", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, badToken("token URL %s://%s is not an http(s) URL with a host", u.Scheme, u.Host)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, badToken("token URL path is %q, not /", u.Path)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, badToken("token URL query: %v", err)
	}
	for k, vs := range q {
		if !tokenParams[strings.ToLower(k)] || len(vs) != 1 {
			return nil, badToken("token URL has parameter %q", k)
		}
	}
	if q.Get("Action") != "GetCallerIdentity" {
		return nil, badToken("token URL action is %q, not GetCallerIdentity", q.Get("Action"))
	}
	if ver := q.Get("Version"); ver != "" && ver != "2011-06-15" {
		return nil, badToken("token URL version is %q", ver)
	}
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, badToken("token URL: %v", err)
	}
	for _, h := range signed {
		if h == ClusterIDHeader {
			if clusterID == "" {
				return nil, badToken("token is bound to a cluster (signs %s) but no cluster id was given", ClusterIDHeader)
			}
			r.Header.Set(ClusterIDHeader, clusterID)
		}
	}
	return r, nil
}

// TokenOf returns the EKS-style bearer token of r ("" if none).
func TokenOf(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") && strings.HasPrefix(a[7:], TokenPrefix) {
		return a[7:]
	}
	return ""
}
