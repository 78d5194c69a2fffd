package ca

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
)

// Template names, as PCA spells them (the part after "template/" in
// arn:aws:acm-pca:::template/<name>).
const (
	TemplateEndEntity             = "EndEntityCertificate/V1"
	TemplateEndEntityClientAuth   = "EndEntityClientAuthCertificate/V1"
	TemplateEndEntityServerAuth   = "EndEntityServerAuthCertificate/V1"
	TemplateCodeSigning           = "CodeSigningCertificate/V1"
	TemplateOCSPSigning           = "OCSPSigningCertificate/V1"
	TemplateRootCA                = "RootCACertificate/V1"
	TemplateSubordinateCAPathLen0 = "SubordinateCACertificate_PathLen0/V1"
	TemplateSubordinateCAPathLen1 = "SubordinateCACertificate_PathLen1/V1"
	TemplateSubordinateCAPathLen2 = "SubordinateCACertificate_PathLen2/V1"
	TemplateSubordinateCAPathLen3 = "SubordinateCACertificate_PathLen3/V1"
	TemplateBlankEndEntityCSR     = "BlankEndEntityCertificate_CSRPassthrough/V1"
	TemplateBlankEndEntityAPI     = "BlankEndEntityCertificate_APIPassthrough/V1"
	TemplateBlankEndEntityAPICSR  = "BlankEndEntityCertificate_APICSRPassthrough/V1"
	templateARNPrefix             = "arn:"
	templateResourcePrefix        = "template/"
)

// Template is one of PCA's certificate templates: the extensions iamra
// writes, and where the rest of the certificate's content may come from.
type Template struct {
	// Name is PCA's name, e.g. "EndEntityClientAuthCertificate/V1".
	Name string
	// CA marks CA templates (basicConstraints CA:TRUE).
	CA bool
	// PathLen is the CA's path length constraint; -1 means none.
	PathLen int
	// Root marks RootCACertificate templates: a CA signs its own CSR.
	Root bool
	// KeyUsage is written as a critical extension (0 = none, Blank templates).
	KeyUsage x509.KeyUsage
	// KeyEncipherment is added to KeyUsage for RSA subject keys only; for
	// EC keys it means nothing and some TLS stacks reject it.
	KeyEncipherment bool
	ExtKeyUsage     []x509.ExtKeyUsage
	// CSRPassthrough copies the CSR's extensions (other than those the
	// template itself writes) into the certificate.
	CSRPassthrough bool
	// APIPassthrough applies the request's Passthrough subject and SANs.
	APIPassthrough bool
	// OCSPNoCheck adds id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
	OCSPNoCheck bool
}

// ARN returns the template's global ARN in a partition
// ("arn:aws:acm-pca:::template/EndEntityCertificate/V1").
func (t *Template) ARN(partition string) string {
	return "arn:" + partition + ":acm-pca:::" + templateResourcePrefix + t.Name
}

var templates = buildTemplates()

func buildTemplates() map[string]*Template {
	const caUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	base := []Template{
		{Name: "EndEntityCertificate", PathLen: -1, KeyUsage: x509.KeyUsageDigitalSignature, KeyEncipherment: true,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
		{Name: "EndEntityClientAuthCertificate", PathLen: -1, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		{Name: "EndEntityServerAuthCertificate", PathLen: -1, KeyUsage: x509.KeyUsageDigitalSignature, KeyEncipherment: true,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		{Name: "CodeSigningCertificate", PathLen: -1, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}},
		{Name: "OCSPSigningCertificate", PathLen: -1, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, OCSPNoCheck: true},
		{Name: "RootCACertificate", CA: true, Root: true, PathLen: -1, KeyUsage: caUsage},
	}
	for n := 0; n <= 3; n++ {
		base = append(base, Template{Name: fmt.Sprintf("SubordinateCACertificate_PathLen%d", n), CA: true, PathLen: n, KeyUsage: caUsage})
	}
	m := map[string]*Template{}
	for _, b := range base {
		plain, api := b, b
		plain.Name = b.Name + "/V1"
		api.Name = b.Name + "_APIPassthrough/V1"
		api.APIPassthrough = true
		m[plain.Name], m[api.Name] = &plain, &api
	}
	for _, t := range []Template{
		{Name: TemplateBlankEndEntityCSR, PathLen: -1, CSRPassthrough: true},
		{Name: TemplateBlankEndEntityAPI, PathLen: -1, APIPassthrough: true},
		{Name: TemplateBlankEndEntityAPICSR, PathLen: -1, APIPassthrough: true, CSRPassthrough: true},
	} {
		m[t.Name] = &t
	}
	return m
}

// LookupTemplate finds a template by PCA name ("EndEntityCertificate/V1")
// or ARN ("arn:aws:acm-pca:::template/EndEntityCertificate/V1"). An empty
// name means EndEntityCertificate/V1, PCA's default.
func LookupTemplate(nameOrARN string) (*Template, error) {
	name := nameOrARN
	if name == "" {
		name = TemplateEndEntity
	}
	if strings.HasPrefix(name, templateARNPrefix) {
		parts := strings.SplitN(name, ":", 6)
		if len(parts) != 6 || parts[2] != "acm-pca" || !strings.HasPrefix(parts[5], templateResourcePrefix) {
			return nil, pcaError(CodeInvalidArn, "The template ARN is not valid.", "ca.template.arn",
				"template ARN %q is not of the form arn:<partition>:acm-pca:::template/<name>/V1", nameOrARN)
		}
		name = strings.TrimPrefix(parts[5], templateResourcePrefix)
	}
	t, ok := templates[name]
	if !ok {
		return nil, invalidArgs("ca.template.unknown", "The template %s is not supported.", name)
	}
	return t, nil
}

// TemplateNames lists the supported templates, for documentation and the
// API layer's error messages.
func TemplateNames() []string {
	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
