package acmpca

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/iamra/iamra/audit"
)

// Requests the SDK would refuse to send, and the protocol's envelope, as
// raw HTTP: what botocore and the SDKs read is exactly what is checked.
func TestWireErrors(t *testing.T) {
	h := newHarness(t, nil)
	caARN, _ := h.createRoot(t, "Wire Root", "", true)
	long := strings.Repeat("a", 201)
	tests := []struct {
		name, target, body string
		status             int
		code, message      string
	}{
		{"no target", "", `{}`, 400, "UnknownOperationException", "The requested operation is not supported by iamra's ACM Private CA API."},
		{"other service's target", "CertificateManager.ListCertificates", `{}`, 400, "UnknownOperationException", ""},
		{"operation iamra does not serve", "ACMPrivateCA.PutPolicy", `{}`, 400, "UnknownOperationException", ""},
		{"not JSON", "ACMPrivateCA.DescribeCertificateAuthority", `{"CertificateAuthorityArn":`, 400, "SerializationException", "Invalid JSON: unexpected end of input"},
		{"wrong member type", "ACMPrivateCA.DescribeCertificateAuthority", `{"CertificateAuthorityArn":5}`, 400, "SerializationException",
			"Unexpected number at 'CertificateAuthorityArn': expected a string"},
		{"blob not base64", "ACMPrivateCA.IssueCertificate", `{"Csr":"***"}`, 400, "SerializationException", ""},
		{"missing ARN", "ACMPrivateCA.DescribeCertificateAuthority", `{}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'certificateAuthorityArn' failed to satisfy constraint: Member must not be null"},
		{"ARN too long", "ACMPrivateCA.GetCertificateAuthorityCsr", `{"CertificateAuthorityArn":"` + long + `"}`, 400, "ValidationException",
			"1 validation error detected: Value '" + long[:100] + "…' at 'certificateAuthorityArn' failed to satisfy constraint: Member must have length less than or equal to 200"},
		{"IssueCertificate without anything", "ACMPrivateCA.IssueCertificate", `{}`, 400, "ValidationException",
			"4 validation errors detected: Value null at 'certificateAuthorityArn' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'csr' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'signingAlgorithm' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'validity' failed to satisfy constraint: Member must not be null"},
		{"MaxResults out of range", "ACMPrivateCA.ListCertificateAuthorities", `{"MaxResults":0}`, 400, "ValidationException",
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"ResourceOwner not in the enum", "ACMPrivateCA.ListCertificateAuthorities", `{"ResourceOwner":"ME"}`, 400, "ValidationException",
			"1 validation error detected: Value 'ME' at 'resourceOwner' failed to satisfy constraint: Member must satisfy enum value set: [SELF, OTHER_ACCOUNTS]"},
		{"deletion window", "ACMPrivateCA.DeleteCertificateAuthority", `{"CertificateAuthorityArn":"` + caARN + `","PermanentDeletionTimeInDays":31}`, 400,
			"ValidationException", "1 validation error detected: Value '31' at 'permanentDeletionTimeInDays' failed to satisfy constraint: Member must have value less than or equal to 30"},
		{"empty tag list", "ACMPrivateCA.TagCertificateAuthority", `{"CertificateAuthorityArn":"` + caARN + `","Tags":[]}`, 400, "ValidationException",
			"1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"report without format", "ACMPrivateCA.CreateCertificateAuthorityAuditReport", `{"CertificateAuthorityArn":"` + caARN + `","S3BucketName":"b12"}`, 400,
			"ValidationException", "1 validation error detected: Value null at 'auditReportResponseFormat' failed to satisfy constraint: Member must not be null"},
		{"report id not a UUID", "ACMPrivateCA.DescribeCertificateAuthorityAuditReport",
			`{"CertificateAuthorityArn":"` + caARN + `","AuditReportId":"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"}`, 400, "ValidationException", ""},
		{"GeneralName with two members", "ACMPrivateCA.IssueCertificate",
			`{"CertificateAuthorityArn":"` + caARN + `","Csr":"` + base64.StdEncoding.EncodeToString(csrPEM(t, newKey(t), &x509.CertificateRequest{Subject: leafSubject})) +
				`","SigningAlgorithm":"SHA256WITHECDSA","Validity":{"Type":"DAYS","Value":1},"TemplateArn":"EndEntityCertificate_APIPassthrough/V1",` +
				`"ApiPassthrough":{"Extensions":{"SubjectAlternativeNames":[{"DnsName":"a.example","Rfc822Name":"a@example.com"}]}}}`, 400,
			"InvalidArgsException", "ApiPassthrough.Extensions.SubjectAlternativeNames[0]: a GeneralName must have exactly one member, found 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := h.call(t, tc.target, tc.body)
			if status != tc.status || body["__type"] != tc.code || hdr.Get("X-Amzn-ErrorType") != tc.code {
				t.Fatalf("got %d %v (header %q), want %d %s", status, body, hdr.Get("X-Amzn-ErrorType"), tc.status, tc.code)
			}
			if tc.message != "" && body["message"] != tc.message {
				t.Errorf("message %q, want %q", body["message"], tc.message)
			}
			if hdr.Get("Content-Type") != ContentType || hdr.Get("x-amzn-RequestId") == "" {
				t.Errorf("headers %v", hdr)
			}
		})
	}
	if n := h.issuedCount(t, caARN); n != 1 {
		t.Errorf("%d certificates recorded; only the CA's own was issued", n)
	}
}

// Success responses: awsJson content type, times as epoch seconds (the
// protocol's default timestamp format), PEM as strings.
func TestWireSuccess(t *testing.T) {
	h := newHarness(t, nil)
	caARN, _ := h.createRoot(t, "Wire Root", "", false)
	status, hdr, body := h.call(t, "ACMPrivateCA.DescribeCertificateAuthority", `{"CertificateAuthorityArn":"`+caARN+`"}`)
	if status != 200 || hdr.Get("Content-Type") != ContentType {
		t.Fatalf("%d %v", status, hdr)
	}
	a := body["CertificateAuthority"].(map[string]any)
	if created, ok := a["CreatedAt"].(float64); !ok || int64(created) != h.clock.Now().Unix() {
		t.Fatalf("CreatedAt %#v", a["CreatedAt"])
	}
	for _, hidden := range []string{"Key", "CsrPem", "CertificatePem", "Crl", "Id"} {
		if _, ok := a[hidden]; ok {
			t.Errorf("CertificateAuthority carries iamra's internal member %s", hidden)
		}
	}
	status, _, body = h.call(t, "ACMPrivateCA.GetCertificateAuthorityCsr", `{"CertificateAuthorityArn":"`+caARN+`"}`)
	if status != 200 || !strings.HasPrefix(body["Csr"].(string), "-----BEGIN CERTIFICATE REQUEST-----") {
		t.Fatalf("%d %v", status, body)
	}
}

// Write operations are audited; blobs are reduced to their size.
func TestAuditRecords(t *testing.T) {
	h := newHarness(t, nil)
	caARN, _ := h.createRoot(t, "Audit Root", "", false)
	ev := h.lastEvent(t)
	if ev.EventName != "ImportCertificateAuthorityCertificate" || ev.EventSource != "acm-pca.amazonaws.com" || ev.ReadOnly ||
		ev.RequestID == "" || ev.AWSRegion != "us-east-1" {
		t.Fatalf("audit %+v", ev)
	}
	params := requestParameters(t, ev)
	if params["CertificateAuthorityArn"] != caARN || !strings.HasPrefix(params["Certificate"].(string), "<") {
		t.Fatalf("requestParameters %v", params)
	}
	h.mu.Lock()
	n := len(h.events)
	h.mu.Unlock()
	h.call(t, "ACMPrivateCA.DescribeCertificateAuthority", `{"CertificateAuthorityArn":"`+caARN+`"}`)
	if h.mu.Lock(); len(h.events) != n {
		t.Error("a read was audited")
	}
	h.mu.Unlock()
	h.call(t, "ACMPrivateCA.IssueCertificate", `{"CertificateAuthorityArn":"`+caARN+`","Csr":"AAAA","SigningAlgorithm":"SHA256WITHECDSA","Validity":{"Type":"DAYS","Value":1}}`)
	if ev := h.lastEvent(t); ev.ErrorCode != "MalformedCSRException" || ev.AdditionalEventData["reason"] != "ca.csr.parse" ||
		requestParameters(t, ev)["Csr"] != "<4 characters>" {
		t.Fatalf("refusal audit %+v", ev)
	}
}

// The CRL distribution point: DER, cacheable until nextUpdate, 304 on
// revalidation, 404 for anything that is not a CA's CRL.
func TestCRLHandler(t *testing.T) {
	h := newHarness(t, nil)
	caARN, _ := h.createRoot(t, "CRL Root", "", true)
	caID := caARN[strings.LastIndex(caARN, "/")+1:]
	get := func(method, path string, hdr http.Header) *http.Response {
		req, _ := http.NewRequest(method, h.srv.URL+path, nil)
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := get("GET", "/crl/"+caID+".crl", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=604800" ||
		resp.Header.Get("Expires") != h.clock.Now().AddDate(0, 0, 7).Format(http.TimeFormat) || resp.Header.Get("ETag") == "" ||
		resp.Header.Get("Last-Modified") != h.clock.Now().Format(http.TimeFormat) {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	h.clock.Advance(time.Hour)
	if resp := get("GET", "/crl/"+caID+".crl", nil); resp.Header.Get("Cache-Control") != "public, max-age=601200" {
		t.Errorf("an hour later: %v", resp.Header.Get("Cache-Control"))
	}
	if r := get("GET", "/crl/"+caID+".crl", http.Header{"If-None-Match": {resp.Header.Get("ETag")}}); r.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d", r.StatusCode)
	}
	if r := get("HEAD", "/crl/"+caID+".crl", nil); r.StatusCode != 200 {
		t.Errorf("HEAD: %d", r.StatusCode)
	}
	for _, path := range []string{"/crl/00000000-0000-4000-8000-000000000000.crl", "/crl/" + caID, "/crl/a/b.crl", "/crl/.crl"} {
		if r := get("GET", path, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d", path, r.StatusCode)
		}
	}
	if r := get("POST", "/crl/"+caID+".crl", nil); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", r.StatusCode)
	}
	// A CA without a certificate has no CRL yet.
	pending, err := h.svc.CreateCertificateAuthority(context.Background(), caCreate(types.CertificateAuthorityUsageModeGeneralPurpose))
	if err != nil {
		t.Fatal(err)
	}
	if r := get("GET", "/crl/"+pending[strings.LastIndex(pending, "/")+1:]+".crl", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("pending CA: %d", r.StatusCode)
	}
}

// Blob members are recorded by their length, escaped or not, and the
// other members as they were sent.
func TestAuditParamsBlobs(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"Csr":"QUJD","Validity":{"Type":"DAYS","Value":1}}`, `{"Csr":"<4 characters>","Validity":{"Type":"DAYS","Value":1}}`},
		{` { "Csr" : "QU\/D" } `, `{"Csr":"<4 characters>"}`},
		{`{"Certificate":null,"CertificateChain":12}`, `{"Certificate":"<5 characters>","CertificateChain":"<2 characters>"}`},
		{`{"C\u0073r":"QUJD","Tags":[{"Key":"a]}\"","Value":"}"}]}`, `{"C\u0073r":"<4 characters>","Tags":[{"Key":"a]}\"","Value":"}"}]}`},
		{`{}`, `{}`},
		{`not json`, ``},
		{`[1]`, ``},
		{``, ``},
	} {
		if got := string(auditParams([]byte(tc.body))); got != tc.want {
			t.Errorf("auditParams(%s) = %s, want %s", tc.body, got, tc.want)
		}
	}
}

// referenceAuditParams is what auditParams computes, the slow way: decode
// everything, then replace the blobs.
func referenceAuditParams(body []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	for _, k := range blobs {
		if v, ok := m[k]; ok {
			m[k] = fmt.Sprintf("<%d characters>", len(fmt.Sprint(v)))
		}
	}
	return m
}

// FuzzAuditParams checks the walk over the body against decoding it: for
// every JSON object the same members and values, the blobs replaced alike,
// and valid JSON out; for anything else no panic.
func FuzzAuditParams(f *testing.F) {
	for _, s := range []string{`{"Csr":"QUJD","Validity":{"Type":"DAYS","Value":1}}`, `{"a":[1,{"b":"]"}],"Certificate":"x\"y"}`,
		`{"CertificateChain":{"x":[]},"n":-1.5e3,"t":true,"f":false,"z":null}`, `{"a":1,"a":2}`, ` {} `, `"str"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := auditParams(body)
		want := referenceAuditParams(body)
		if want == nil {
			return // not an object: the handler never audits such a body's members
		}
		if !json.Valid(got) {
			t.Fatalf("auditParams(%q) = %q, not JSON", body, got)
		}
		var m map[string]any
		if err := json.Unmarshal(got, &m); err != nil || !reflect.DeepEqual(m, want) {
			t.Fatalf("auditParams(%q) = %s, want %v", body, got, want)
		}
	})
}

// requestParameters decodes an audit event's requestParameters.
func requestParameters(t *testing.T, ev audit.Event) map[string]any {
	t.Helper()
	raw, ok := ev.RequestParameters.(json.RawMessage)
	if !ok {
		t.Fatalf("requestParameters is a %T", ev.RequestParameters)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
