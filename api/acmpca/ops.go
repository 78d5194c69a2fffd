package acmpca

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/ca"
)

// decode reads an operation's input with restjson's rules (unknown
// members ignored, an empty body is an empty input, wrong JSON types are
// SerializationException) and keeps its members for the audit record.
func decode(body []byte, c *call, in any) error {
	if err := restjson.Unmarshal(body, in); err != nil {
		return err
	}
	c.params = auditParams(body)
	return nil
}

// blobs are members whose value the audit record replaces by its size:
// they are large, and the certificate ARN in the response names the same.
var blobs = []string{"Csr", "Certificate", "CertificateChain"}

// auditParams is the request body for the audit record, with each blob
// member's value replaced by "<N characters>", or nil if body is not a
// JSON object. It runs on every write, after restjson.Unmarshal has
// accepted body, so it walks the members of valid JSON instead of decoding
// them again: the blobs are most of the body, and decoding them twice cost
// as much as the request's own decoding.
func auditParams(body []byte) json.RawMessage {
	w := jsonWalker{b: body}
	w.space()
	if !w.eat('{') {
		return nil
	}
	out := make([]byte, 0, 256)
	out = append(out, '{')
	for first := true; ; first = false {
		w.space()
		if w.eat('}') {
			break
		}
		if !first {
			if !w.eat(',') {
				return nil
			}
			w.space()
		}
		key, ok := w.value()
		if !ok || len(key) < 2 || key[0] != '"' {
			return nil
		}
		w.space()
		if !w.eat(':') {
			return nil
		}
		w.space()
		v, ok := w.value()
		if !ok {
			return nil
		}
		if !first {
			out = append(out, ',')
		}
		out = append(append(out, key...), ':')
		if slices.Contains(blobs, memberName(key)) {
			out = strconv.AppendQuote(out, fmt.Sprintf("<%d characters>", blobLength(v)))
		} else {
			out = append(out, v...)
		}
	}
	return append(out, '}')
}

// memberName is a member's name from its quoted form.
func memberName(quoted []byte) string {
	if plainASCII(quoted) {
		return string(quoted[1 : len(quoted)-1])
	}
	var s string
	_ = json.Unmarshal(quoted, &s)
	return s
}

// jsonWalker steps over the values of a JSON text that is known to be
// valid; on anything else it reports failure rather than guessing.
type jsonWalker struct {
	b []byte
	i int
}

func (w *jsonWalker) space() {
	for w.i < len(w.b) && (w.b[w.i] == ' ' || w.b[w.i] == '\t' || w.b[w.i] == '\n' || w.b[w.i] == '\r') {
		w.i++
	}
}

func (w *jsonWalker) eat(c byte) bool {
	if w.i < len(w.b) && w.b[w.i] == c {
		w.i++
		return true
	}
	return false
}

// value returns the next value's text: a string, an object or array
// (brackets counted outside strings), or a literal or number (up to the
// next delimiter).
func (w *jsonWalker) value() ([]byte, bool) {
	start := w.i
	if w.i >= len(w.b) {
		return nil, false
	}
	switch w.b[w.i] {
	case '"':
		if !w.str() {
			return nil, false
		}
	case '{', '[':
		depth := 0
		for w.i < len(w.b) {
			switch w.b[w.i] {
			case '"':
				if !w.str() {
					return nil, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			w.i++
			if depth == 0 {
				break
			}
		}
		if depth != 0 {
			return nil, false
		}
	default:
		for w.i < len(w.b) && strings.IndexByte(",}] \t\n\r", w.b[w.i]) < 0 {
			w.i++
		}
		if w.i == start {
			return nil, false
		}
	}
	return w.b[start:w.i], true
}

// str steps over a string, escapes included.
func (w *jsonWalker) str() bool {
	for w.i++; w.i < len(w.b); w.i++ {
		switch w.b[w.i] {
		case '\\':
			w.i++
		case '"':
			w.i++
			return true
		}
	}
	return false
}

// blobLength is the length of a blob member's text as decoding it would
// give. A blob is kilobytes of base64: ASCII that JSON does not escape, so
// its length is read off the quoted value; anything else is decoded (which
// also turns invalid UTF-8 into U+FFFD, as the reference does).
func blobLength(v []byte) int {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && plainASCII(v) {
		return len(v) - 2
	}
	var x any
	_ = json.Unmarshal(v, &x)
	return len(fmt.Sprint(x))
}

func plainASCII(v []byte) bool {
	for _, c := range v {
		if c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}

// check returns one ValidationException for the failed constraints, or nil.
func check(vs ...*awserr.Violation) error {
	var list []awserr.Violation
	for _, v := range vs {
		if v != nil {
			list = append(list, *v)
		}
	}
	if len(list) == 0 {
		return nil
	}
	return awserr.Violations(list...)
}

func null(field string) *awserr.Violation {
	return &awserr.Violation{Null: true, Field: field, Constraint: "Member must not be null"}
}

// requiredString checks a required string member's presence and length.
func requiredString(field string, v *string, min, max int) *awserr.Violation {
	if v == nil {
		return null(field)
	}
	return length(field, *v, min, max)
}

func length(field, v string, min, max int) *awserr.Violation {
	switch {
	case len(v) < min:
		return &awserr.Violation{Value: v, Field: field, Constraint: fmt.Sprintf("Member must have length greater than or equal to %d", min)}
	case len(v) > max:
		return &awserr.Violation{Value: trimmed(v), Field: field, Constraint: fmt.Sprintf("Member must have length less than or equal to %d", max)}
	}
	return nil
}

func optionalString(field string, v *string, min, max int) *awserr.Violation {
	if v == nil {
		return nil
	}
	return length(field, *v, min, max)
}

func between(field string, v *int, min, max int) *awserr.Violation {
	if v == nil || (*v >= min && *v <= max) {
		return nil
	}
	c := fmt.Sprintf("Member must have value greater than or equal to %d", min)
	if *v > max {
		c = fmt.Sprintf("Member must have value less than or equal to %d", max)
	}
	return &awserr.Violation{Value: strconv.Itoa(*v), Field: field, Constraint: c}
}

func enum(field string, v *string, allowed ...string) *awserr.Violation {
	if v == nil {
		return nil
	}
	for _, a := range allowed {
		if *v == a {
			return nil
		}
	}
	return &awserr.Violation{Value: trimmed(*v), Field: field, Constraint: "Member must satisfy enum value set: [" + strings.Join(allowed, ", ") + "]"}
}

// arnField checks a required ARN member (PCA's Arn shape: 5 to 200
// characters); ca.Service judges its form.
func arnField(field string, v *string) *awserr.Violation { return requiredString(field, v, 5, 200) }

func (in caInput) arn() *awserr.Violation {
	return arnField("certificateAuthorityArn", in.CertificateAuthorityArn)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func trimmed(s string) string {
	const max = 100
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

func invalidArgs(reason, message string) *awserr.Error {
	return awserr.New(ca.CodeInvalidArgs, http.StatusBadRequest, message).Because(reason, "%s", message)
}

// caOnly is the body of operations whose input is just the CA's ARN.
func caOnly(body []byte, c *call) (string, error) {
	var in caInput
	if err := decode(body, c, &in); err != nil {
		return "", err
	}
	return str(in.CertificateAuthorityArn), check(in.arn())
}

func (h *Handler) createCertificateAuthority(ctx context.Context, body []byte, c *call) (any, error) {
	var in createInput
	if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	var vs []*awserr.Violation
	if in.CertificateAuthorityConfiguration == nil {
		vs = append(vs, null("certificateAuthorityConfiguration"))
	}
	if in.CertificateAuthorityType == nil {
		vs = append(vs, null("certificateAuthorityType"))
	}
	vs = append(vs, optionalString("idempotencyToken", in.IdempotencyToken, 1, 36))
	if err := check(vs...); err != nil {
		return nil, err
	}
	cfg := in.CertificateAuthorityConfiguration
	if len(cfg.CsrExtensions) > 0 && string(cfg.CsrExtensions) != "null" {
		return nil, invalidArgs(ReasonCSRExtensions, "CsrExtensions are not supported by iamra; create the CA without them.")
	}
	req := ca.CreateRequest{
		CertificateAuthorityType: str(in.CertificateAuthorityType), CertificateAuthorityConfiguration: cfg.Configuration,
		UsageMode: str(in.UsageMode), KeyStorageSecurityStandard: str(in.KeyStorageSecurityStandard),
		Tags: in.Tags, IdempotencyToken: str(in.IdempotencyToken),
	}
	if in.RevocationConfiguration != nil {
		req.RevocationConfiguration = *in.RevocationConfiguration
	}
	caARN, err := h.cfg.Service.CreateCertificateAuthority(ctx, req)
	if err != nil {
		return nil, err
	}
	return arnOutput{CertificateAuthorityArn: caARN}, nil
}

func (h *Handler) describeCertificateAuthority(ctx context.Context, body []byte, c *call) (any, error) {
	caARN, err := caOnly(body, c)
	if err != nil {
		return nil, err
	}
	a, err := h.cfg.Service.DescribeCertificateAuthority(ctx, caARN)
	if err != nil {
		return nil, err
	}
	return describeOutput{CertificateAuthority: authorityShape(a)}, nil
}

func (h *Handler) listCertificateAuthorities(ctx context.Context, body []byte, c *call) (any, error) {
	var in listInput
	if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	if err := check(between("maxResults", in.MaxResults, 1, 1000), optionalString("nextToken", in.NextToken, 1, 43),
		enum("resourceOwner", in.ResourceOwner, "SELF", "OTHER_ACCOUNTS")); err != nil {
		return nil, err
	}
	out := listOutput{CertificateAuthorities: []certificateAuthority{}}
	if str(in.ResourceOwner) == "OTHER_ACCOUNTS" {
		return out, nil // nothing is shared with this account
	}
	max := 0
	if in.MaxResults != nil {
		max = *in.MaxResults
	}
	list, next, err := h.cfg.Service.ListCertificateAuthorities(ctx, str(in.NextToken), max)
	if err != nil {
		return nil, err
	}
	for _, a := range list {
		out.CertificateAuthorities = append(out.CertificateAuthorities, authorityShape(a))
	}
	out.NextToken = next
	return out, nil
}

func (h *Handler) updateCertificateAuthority(ctx context.Context, body []byte, c *call) (any, error) {
	var in updateInput
	if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	if err := check(in.arn()); err != nil {
		return nil, err
	}
	return empty{}, h.cfg.Service.UpdateCertificateAuthority(ctx, *in.CertificateAuthorityArn, in.Status, in.RevocationConfiguration)
}

func (h *Handler) deleteCertificateAuthority(ctx context.Context, body []byte, c *call) (any, error) {
	var in deleteInput
	if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	if err := check(in.arn(), between("permanentDeletionTimeInDays", in.PermanentDeletionTimeInDays, 7, 30)); err != nil {
		return nil, err
	}
	days := 0
	if in.PermanentDeletionTimeInDays != nil {
		days = *in.PermanentDeletionTimeInDays
	}
	return empty{}, h.cfg.Service.DeleteCertificateAuthority(ctx, *in.CertificateAuthorityArn, days)
}

func (h *Handler) restoreCertificateAuthority(ctx context.Context, body []byte, c *call) (any, error) {
	caARN, err := caOnly(body, c)
	if err != nil {
		return nil, err
	}
	return empty{}, h.cfg.Service.RestoreCertificateAuthority(ctx, caARN)
}

func (h *Handler) getCertificateAuthorityCsr(ctx context.Context, body []byte, c *call) (any, error) {
	caARN, err := caOnly(body, c)
	if err != nil {
		return nil, err
	}
	csr, err := h.cfg.Service.GetCertificateAuthorityCsr(ctx, caARN)
	if err != nil {
		return nil, err
	}
	return csrOutput{Csr: csr}, nil
}

func (h *Handler) importCertificateAuthorityCertificate(ctx context.Context, body []byte, c *call) (any, error) {
	var in importInput
	if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	var vs []*awserr.Violation
	vs = append(vs, in.arn())
	switch {
	case in.Certificate == nil:
		vs = append(vs, null("certificate"))
	case len(in.Certificate) > 32768:
		vs = append(vs, &awserr.Violation{Value: "<certificate>", Field: "certificate", Constraint: "Member must have length less than or equal to 32768"})
	}
	if len(in.CertificateChain) > 2097152 {
		vs = append(vs, &awserr.Violation{Value: "<certificateChain>", Field: "certificateChain", Constraint: "Member must have length less than or equal to 2097152"})
	}
	if err := check(vs...); err != nil {
		return nil, err
	}
	return empty{}, h.cfg.Service.ImportCertificateAuthorityCertificate(ctx, *in.CertificateAuthorityArn, in.Certificate, in.CertificateChain)
}

func (h *Handler) getCertificateAuthorityCertificate(ctx context.Context, body []byte, c *call) (any, error) {
	caARN, err := caOnly(body, c)
	if err != nil {
		return nil, err
	}
	cert, chain, err := h.cfg.Service.GetCertificateAuthorityCertificate(ctx, caARN)
	if err != nil {
		return nil, err
	}
	return certificateOutput{Certificate: cert, CertificateChain: chain}, nil
}

func (h *Handler) issueCertificate(ctx context.Context, body []byte, c *call) (any, error) {
	var in issueInput
	if fast, params, ok := decodeIssueFast(body); ok {
		in, c.params = fast, params
	} else if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	var vs []*awserr.Violation
	vs = append(vs, in.arn())
	if in.Csr == nil {
		vs = append(vs, null("csr"))
	}
	if in.SigningAlgorithm == nil {
		vs = append(vs, null("signingAlgorithm"))
	}
	if in.Validity == nil {
		vs = append(vs, null("validity"))
	}
	vs = append(vs, optionalString("templateArn", in.TemplateArn, 5, 200), optionalString("idempotencyToken", in.IdempotencyToken, 1, 36))
	if err := check(vs...); err != nil {
		return nil, err
	}
	req := ca.IssueCertificateRequest{
		CertificateAuthorityArn: *in.CertificateAuthorityArn, Csr: in.Csr, SigningAlgorithm: *in.SigningAlgorithm,
		TemplateArn: str(in.TemplateArn), Validity: *in.Validity, ValidityNotBefore: in.ValidityNotBefore,
		IdempotencyToken: str(in.IdempotencyToken),
	}
	if in.ApiPassthrough != nil {
		// PCA ignores ApiPassthrough unless the template passes it through;
		// an unknown template is ca.Service's error to report.
		if t, err := ca.LookupTemplate(req.TemplateArn); err == nil && t.APIPassthrough {
			p, err := passthrough(in.ApiPassthrough)
			if err != nil {
				return nil, err
			}
			req.ApiPassthrough = p
		}
	}
	certARN, err := h.cfg.Service.IssueCertificate(ctx, req)
	if err != nil {
		return nil, err
	}
	return issueOutput{CertificateArn: certARN}, nil
}

// passthrough converts PCA's ApiPassthrough into ca's: the subject and the
// DNS, IP, URI and email SANs.
func passthrough(in *apiPassthrough) (*ca.Passthrough, error) {
	p := &ca.Passthrough{}
	if in.Subject != nil && !in.Subject.IsZero() {
		n, err := in.Subject.Name()
		if err != nil {
			return nil, err
		}
		p.Subject = &n
	}
	ext := in.Extensions
	if ext == nil {
		return p, nil
	}
	for name, raw := range map[string]json.RawMessage{"CertificatePolicies": ext.CertificatePolicies, "CustomExtensions": ext.CustomExtensions,
		"ExtendedKeyUsage": ext.ExtendedKeyUsage, "KeyUsage": ext.KeyUsage} {
		if len(raw) > 0 && string(raw) != "null" {
			return nil, invalidArgs(ReasonPassthroughUnsupported,
				fmt.Sprintf("ApiPassthrough.Extensions.%s is not supported by iamra; only Subject and SubjectAlternativeNames are.", name))
		}
	}
	for i, g := range ext.SubjectAlternativeNames {
		if err := g.addTo(p); err != nil {
			return nil, invalidArgs(ReasonPassthroughSAN, fmt.Sprintf("ApiPassthrough.Extensions.SubjectAlternativeNames[%d]: %s", i, err))
		}
	}
	return p, nil
}

func (g generalName) addTo(p *ca.Passthrough) error {
	set := 0
	for _, present := range []bool{g.DnsName != nil, g.IpAddress != nil, g.UniformResourceIdentifier != nil, g.Rfc822Name != nil,
		g.RegisteredId != nil, isSet(g.DirectoryName), isSet(g.EdiPartyName), isSet(g.OtherName)} {
		if present {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("a GeneralName must have exactly one member, found %d", set)
	}
	switch {
	case g.DnsName != nil:
		if *g.DnsName == "" || len(*g.DnsName) > 253 {
			return fmt.Errorf("DnsName must have 1 to 253 characters")
		}
		p.DNSNames = append(p.DNSNames, *g.DnsName)
	case g.IpAddress != nil:
		ip := net.ParseIP(*g.IpAddress)
		if ip == nil {
			return fmt.Errorf("IpAddress %q is not an IPv4 or IPv6 address", trimmed(*g.IpAddress))
		}
		p.IPAddresses = append(p.IPAddresses, ip)
	case g.UniformResourceIdentifier != nil:
		u, err := url.Parse(*g.UniformResourceIdentifier)
		if err != nil || u.Scheme == "" {
			return fmt.Errorf("UniformResourceIdentifier %q is not an absolute URI", trimmed(*g.UniformResourceIdentifier))
		}
		p.URIs = append(p.URIs, u)
	case g.Rfc822Name != nil:
		if !strings.Contains(*g.Rfc822Name, "@") {
			return fmt.Errorf("Rfc822Name %q is not an email address", trimmed(*g.Rfc822Name))
		}
		p.EmailAddresses = append(p.EmailAddresses, *g.Rfc822Name)
	default:
		return fmt.Errorf("only DnsName, IpAddress, UniformResourceIdentifier and Rfc822Name are supported by iamra")
	}
	return nil
}

func isSet(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

func (h *Handler) getCertificate(ctx context.Context, body []byte, c *call) (any, error) {
	var in getCertificateInput
	if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	if err := check(in.arn(), arnField("certificateArn", in.CertificateArn)); err != nil {
		return nil, err
	}
	cert, chain, err := h.cfg.Service.GetCertificate(ctx, *in.CertificateAuthorityArn, *in.CertificateArn)
	if err != nil {
		return nil, err
	}
	return certificateOutput{Certificate: cert, CertificateChain: chain}, nil
}

func (h *Handler) revokeCertificate(ctx context.Context, body []byte, c *call) (any, error) {
	var in revokeInput
	if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	var vs []*awserr.Violation
	vs = append(vs, in.arn(), requiredString("certificateSerial", in.CertificateSerial, 0, 128))
	if in.RevocationReason == nil {
		vs = append(vs, null("revocationReason"))
	}
	if err := check(vs...); err != nil {
		return nil, err
	}
	return empty{}, h.cfg.Service.RevokeCertificate(ctx, *in.CertificateAuthorityArn, *in.CertificateSerial, *in.RevocationReason)
}

func (h *Handler) tagCertificateAuthority(ctx context.Context, body []byte, c *call) (any, error) {
	caARN, tags, err := tagsOf(body, c)
	if err != nil {
		return nil, err
	}
	return empty{}, h.cfg.Service.TagCertificateAuthority(ctx, caARN, tags)
}

func (h *Handler) untagCertificateAuthority(ctx context.Context, body []byte, c *call) (any, error) {
	caARN, tags, err := tagsOf(body, c)
	if err != nil {
		return nil, err
	}
	return empty{}, h.cfg.Service.UntagCertificateAuthority(ctx, caARN, tags)
}

func tagsOf(body []byte, c *call) (string, []ca.Tag, error) {
	var in tagsInput
	if err := decode(body, c, &in); err != nil {
		return "", nil, err
	}
	var vs []*awserr.Violation
	vs = append(vs, in.arn())
	switch {
	case in.Tags == nil:
		vs = append(vs, null("tags"))
	case len(in.Tags) == 0:
		vs = append(vs, &awserr.Violation{Value: "[]", Field: "tags", Constraint: "Member must have length greater than or equal to 1"})
	}
	return str(in.CertificateAuthorityArn), in.Tags, check(vs...)
}

func (h *Handler) listTags(ctx context.Context, body []byte, c *call) (any, error) {
	var in listTagsInput
	if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	if err := check(in.arn(), between("maxResults", in.MaxResults, 1, 1000), optionalString("nextToken", in.NextToken, 1, 43)); err != nil {
		return nil, err
	}
	a, err := h.cfg.Service.DescribeCertificateAuthority(ctx, *in.CertificateAuthorityArn)
	if err != nil {
		return nil, err
	}
	// The token is the offset of the next tag: a CA has at most 50.
	start := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 1 || n > len(a.Tags) {
			return nil, awserr.New(ca.CodeInvalidNextToken, http.StatusBadRequest, "The token specified in the NextToken argument is not valid.").
				Because("ca.list.token", "ListTags token %q is not an offset into %d tags", trimmed(*in.NextToken), len(a.Tags))
		}
		start = n
	}
	end := len(a.Tags)
	if in.MaxResults != nil && start+*in.MaxResults < end {
		end = start + *in.MaxResults
	}
	out := listTagsOutput{Tags: append([]ca.Tag{}, a.Tags[start:end]...)}
	if end < len(a.Tags) {
		out.NextToken = strconv.Itoa(end)
	}
	return out, nil
}
