package rolesclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/helper/keysource"
)

// AWS keeps CreateSession errors terse (issue #108 of the official helper:
// "Untrusted signing certificate ... open a support case"). The client knows
// what it sent, the certificate, its clock and the server's Date header, so
// it can say which of the usual causes applies.

type hintContext struct {
	in         Input
	region     string
	endpoint   string
	id         *keysource.Identity
	now        time.Time
	serverDate string
}

const skewWindow = 5 * time.Minute

func hint(e *Error, h hintContext) string {
	var hs []string
	add := func(format string, args ...any) { hs = append(hs, fmt.Sprintf(format, args...)) }
	msg := strings.ToLower(e.Message)
	leaf := h.id.Certificate
	taRegion := ""
	if a, err := arn.Parse(h.in.TrustAnchorARN); err == nil {
		taRegion = a.Region
	}

	// Facts that explain most authentication failures come first.
	if e.StatusCode == http.StatusForbidden || e.Code == "AccessDeniedException" {
		switch {
		case h.now.Before(leaf.NotBefore):
			add("The certificate (serial %s) is not valid until %s; it is now %s here.", leaf.SerialNumber, utc(leaf.NotBefore), utc(h.now))
		case h.now.After(leaf.NotAfter):
			add("The certificate (serial %s) expired at %s; renew it.", leaf.SerialNumber, utc(leaf.NotAfter))
		}
		if t, err := http.ParseTime(h.serverDate); err == nil {
			if d := h.now.Sub(t); d > skewWindow || d < -skewWindow {
				add("This machine's clock is %s %s the server's (Date: %s); signatures are valid for 5 minutes, so fix the clock (NTP).",
					d.Abs().Round(time.Second), map[bool]string{true: "ahead of", false: "behind"}[d > 0], h.serverDate)
			}
		}
	}

	switch {
	case strings.Contains(msg, "invalid signature"):
		if taRegion != "" && h.region != taRegion {
			add("The request was signed for region %s but the trust anchor is in %s: drop --region or set it to %s.", h.region, taRegion, taRegion)
		}
		add("Check that the clock is within 5 minutes of the server's (local time %s), that the request is signed for the trust anchor's region (signed for %s), and that no proxy rewrites the request's host, path or body.", utc(h.now), h.region)
	case strings.Contains(msg, "untrusted signing certificate"):
		add("The certificate (subject %q, issuer %q, serial %s) does not chain to the trust anchor's CA. Check that --trust-anchor-arn names the trust anchor holding the issuing CA;",
			leaf.Subject.String(), leaf.Issuer.String(), leaf.SerialNumber)
		if len(h.id.Chain) == 0 {
			add("if the certificate was issued by an intermediate CA, pass it with --intermediates (no chain was sent);")
		} else {
			add("%d chain certificate(s) were sent, check they lead from the certificate to that CA;", len(h.id.Chain))
		}
		add("and that the certificate is not revoked by a CRL imported into Roles Anywhere.")
	case strings.Contains(msg, "trust anchor") && (strings.Contains(msg, "not found") || strings.Contains(msg, "wasn't found")):
		add("The trust anchor %s does not exist (or is disabled) where the request went (%s). Check --trust-anchor-arn and that the endpoint is in the ARN's region (%s).", h.in.TrustAnchorARN, h.endpoint, taRegion)
	case strings.Contains(msg, "profile") && (strings.Contains(msg, "invalid") || strings.Contains(msg, "empty")):
		add("Check --profile-arn (%s): the profile must exist in the trust anchor's account and region, and be enabled.", h.in.ProfileARN)
	case strings.Contains(msg, "isn't one of those listed"), strings.Contains(msg, "not one of those listed"):
		add("Add %s to the profile's roleArns, or pass a --role-arn the profile lists.", h.in.RoleARN)
	case strings.Contains(msg, "rolesessionname"):
		add("The profile does not accept role session names: enable acceptRoleSessionName on it, or drop --role-session-name.")
	case strings.Contains(msg, "session tags"), strings.Contains(msg, "fail to be mapped"):
		add("The certificate's subject, issuer or SAN values cannot all become session tags (at most 50 tags, values up to 256 characters); adjust the profile's attribute mappings to leave some out.")
	case strings.Contains(msg, "sts:assumerole"), strings.Contains(msg, "trust policy"):
		add("The role's trust policy must allow the principal rolesanywhere.amazonaws.com the actions sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity, with conditions this certificate and trust anchor meet.")
	case e.Code == "ValidationException" && strings.Contains(msg, "duration"):
		add("--session-duration must be between 900 and 43200 seconds and at most the role's MaxSessionDuration and the profile's durationSeconds (sent %d).", h.in.DurationSeconds)
	case e.Code == "ValidationException":
		add("Check the ARNs (arn:PARTITION:rolesanywhere:REGION:ACCOUNT:trust-anchor/ID, .../profile/ID, arn:PARTITION:iam::ACCOUNT:role/NAME) and the --role-session-name characters.")
	case throttlingCodes[e.Code] || e.StatusCode == http.StatusTooManyRequests:
		add("CreateSession is rate-limited (on AWS, 10 requests per second per account by default). Use `serve` or `update`, which cache credentials, instead of running credential-process for every command.")
	case e.StatusCode >= 500:
		add("The service failed; try again later.")
	case e.Code == "" && e.StatusCode/100 == 4:
		add("%s does not look like a Roles Anywhere endpoint (a %d without an AWS error type); check --endpoint and AWS_ENDPOINT_URL*.", h.endpoint, e.StatusCode)
	case e.Code == "MissingAuthenticationTokenException", e.Code == "IncompleteSignatureException", e.Code == "UnknownOperationException":
		add("The endpoint %s did not recognise a CreateSession request; check --endpoint (it must be the Roles Anywhere endpoint, without /sessions).", h.endpoint)
	case e.Code == "AccessDeniedException":
		add("Check that the trust anchor and profile are enabled, the role is listed in the profile, and the role's trust policy allows rolesanywhere.amazonaws.com.")
	}
	if u, err := url.Parse(h.endpoint); err == nil && strings.Trim(u.Path, "/") != "" && strings.Contains(msg, "signature") {
		add("The endpoint has a path prefix (%s); the request is signed as /sessions, as the official helper does, so the server must verify it that way.", u.Path)
	}
	return strings.Join(hs, " ")
}

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// transportHint explains a request that got no response.
func transportHint(err error, endpoint string) string {
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	var dnsErr *net.DNSError
	var netErr net.Error
	s := err.Error()
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &certErr) && errors.As(certErr.Err, &unknownCA):
		return "The server's TLS certificate is not trusted: point AWS_CA_BUNDLE (which replaces the system roots) or SSL_CERT_FILE at its CA, or use --no-verify-ssl for tests only."
	case errors.As(err, &hostErr):
		return fmt.Sprintf("The server's TLS certificate is not valid for %s; check --endpoint.", hostErr.Host)
	case strings.Contains(s, "server gave HTTP response to HTTPS client"):
		return "The endpoint speaks plain HTTP; use an http:// endpoint."
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("Nothing listens at %s; check --endpoint and that the server runs.", endpoint)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("Cannot resolve %s; check --endpoint, --region and DNS.", dnsErr.Name)
	case errors.As(err, &netErr) && netErr.Timeout():
		return "The endpoint did not answer in time; check the network, firewall and proxy settings (HTTPS_PROXY, NO_PROXY)."
	}
	return ""
}
