package acmpca

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/audit"
)

// referenceIssue is what the generic path makes of an IssueCertificate
// body: restjson.Unmarshal, then auditParams.
func referenceIssue(body []byte) (issueInput, json.RawMessage, error) {
	var in issueInput
	if err := restjson.Unmarshal(body, &in); err != nil {
		return in, nil, err
	}
	return in, auditParams(body), nil
}

// checkIssueFast holds decodeIssueFast to its contract for one body: it
// declines, or it gives exactly what the generic path gives, and it
// declines whatever the generic path refuses.
func checkIssueFast(t *testing.T, body []byte) (accepted bool) {
	t.Helper()
	in, params, ok := decodeIssueFast(body)
	refIn, refParams, err := referenceIssue(body)
	if !ok {
		if !reflect.DeepEqual(in, issueInput{}) || params != nil {
			t.Fatalf("declined %q but returned %+v %q", body, in, params)
		}
		return false
	}
	if err != nil {
		t.Fatalf("fast path accepted %q, which restjson.Unmarshal refuses: %v", body, err)
	}
	if !reflect.DeepEqual(in, refIn) {
		t.Fatalf("fast path decoded %q as\n%s\nwant\n%s", body, dump(in), dump(refIn))
	}
	if !bytes.Equal(params, refParams) {
		t.Fatalf("fast path audit parameters of %q:\n%s\nwant\n%s", body, params, refParams)
	}
	return true
}

func dump(in issueInput) string {
	b, _ := json.Marshal(in)
	return string(b)
}

// sdkIssueBodies are the bodies the AWS SDK for Go v2 sends for a range of
// IssueCertificate inputs, captured off the wire.
func sdkIssueBodies(t testing.TB) (bodies [][]byte, passthrough []bool) {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.Header().Set("Content-Type", ContentType)
		io.WriteString(w, `{"CertificateArn":"arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x/certificate/y"}`)
	}))
	defer srv.Close()
	client := acmpca.New(acmpca.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		Credentials: awscreds.NewStaticCredentialsProvider("AKIAEXAMPLEEXAMPLE00", "secret", ""), Retryer: aws.NopRetryer{}})
	caARN := "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/0b7f8b3e-8f4c-4f67-9d0a-2a6c9f1e5d21"
	csr := csrPEM(t, newKey(t), &x509.CertificateRequest{Subject: leafSubject})
	inputs := []*acmpca.IssueCertificateInput{
		{CertificateAuthorityArn: &caARN, Csr: csr, SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
			Validity: &types.Validity{Type: types.ValidityPeriodTypeDays, Value: aws.Int64(30)}},
		{CertificateAuthorityArn: &caARN, Csr: rsaCSR(t, 2048), SigningAlgorithm: types.SigningAlgorithmSha256withrsa,
			TemplateArn: aws.String("arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1"),
			Validity:    &types.Validity{Type: "HOURS", Value: aws.Int64(24)}, IdempotencyToken: aws.String("token-1")},
		{CertificateAuthorityArn: &caARN, Csr: csr, SigningAlgorithm: types.SigningAlgorithmSha384withecdsa,
			Validity:          &types.Validity{Type: types.ValidityPeriodTypeEndDate, Value: aws.Int64(20301231235959)},
			ValidityNotBefore: &types.Validity{Type: types.ValidityPeriodTypeAbsolute, Value: aws.Int64(1700000000)}},
		{CertificateAuthorityArn: &caARN, Csr: csr, SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
			TemplateArn: aws.String("arn:aws:acm-pca:::template/BlankEndEntityCertificate_APICSRPassthrough/V1"),
			Validity:    &types.Validity{Type: types.ValidityPeriodTypeDays, Value: aws.Int64(1)},
			ApiPassthrough: &types.ApiPassthrough{Subject: &types.ASN1Subject{CommonName: aws.String("p")},
				Extensions: &types.Extensions{SubjectAlternativeNames: []types.GeneralName{{DnsName: aws.String("a.example")}}}}},
	}
	for _, in := range inputs {
		if _, err := client.IssueCertificate(context.Background(), in); err != nil {
			t.Fatal(err)
		}
		passthrough = append(passthrough, in.ApiPassthrough != nil)
	}
	return bodies, passthrough
}

// What the SDK sends takes the fast path, with the generic path's result;
// only ApiPassthrough, which it does not handle, falls back.
func TestIssueFastPathSDKBodies(t *testing.T) {
	bodies, passthrough := sdkIssueBodies(t)
	for i, body := range bodies {
		if accepted := checkIssueFast(t, body); accepted == passthrough[i] {
			t.Errorf("SDK body %s: fast path accepted=%v", body, accepted)
		}
	}
}

// Bodies shaped as other clients send them, and bodies the fast path must
// leave to restjson.Unmarshal.
func TestIssueFastPath(t *testing.T) {
	csr := base64.StdEncoding.EncodeToString(csrPEM(t, newKey(t), &x509.CertificateRequest{Subject: leafSubject}))
	r := strings.NewReplacer("$CSR", csr, "$CA", "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/c")
	for _, body := range []string{
		// botocore (aws acm-pca issue-certificate): json.dumps's separators.
		`{"CertificateAuthorityArn": "$CA", "Csr": "$CSR", "SigningAlgorithm": "SHA256WITHECDSA", "Validity": {"Type": "DAYS", "Value": 365}, "IdempotencyToken": "1234"}`,
		"\r\n\t {\n  \"Csr\" :\t\"$CSR\" ,\n  \"Validity\" : { \"Value\" : 7 , \"Type\" : \"DAYS\" }\n}\n ",
		`{}`, ` { } `,
		`{"Csr":""}`, `{"Csr":"QUJD"}`, `{"Csr":"QQ=="}`,
		`{"Validity":{}}`, `{"Validity":{"Value":-0}}`, `{"Validity":{"Value":9223372036854775807}}`, `{"Validity":{"Value":-9223372036854775808}}`,
		`{"CertificateAuthorityArn":"ü-é-€-𝄞"}`, "{\"TemplateArn\":\"<&>\x7f\"}", "{\"TemplateArn\":\"\u2028\"}",
	} {
		b := []byte(r.Replace(body))
		if !checkIssueFast(t, b) {
			t.Errorf("declined %s", b)
		}
	}
	for _, body := range []string{
		``, ` `, `null`, `[]`, `"x"`, `{`, `{"Csr":"$CSR"`, `{"Csr":"$CSR",}`, `{,}`, `{"Csr" "x"}`,
		`{}x`, `{}{}`, `{} null`,
		`{"ApiPassthrough":{}}`, `{"ApiPassthrough":null}`, `{"Unknown":1}`, `{"csr":"QUJD"}`, `{"CSR":"QUJD"}`, `{"C\u0073r":"QUJD"}`,
		`{"Csr":"QUJD","Csr":"QUJD"}`, `{"Validity":{"Type":"DAYS","Type":"DAYS"}}`, `{"Validity":{"type":"DAYS"}}`,
		`{"Validity":{"Value":1,"Value":2}}`, `{"Validity":{"Other":1}}`, `{"Validity":[]}`, `{"Validity":null}`,
		`{"Validity":{"Value":1.0}}`, `{"Validity":{"Value":1e3}}`, `{"Validity":{"Value":01}}`, `{"Validity":{"Value":-}}`,
		`{"Validity":{"Value":"1"}}`, `{"Validity":{"Value":9223372036854775808}}`, `{"Validity":{"Value":-9223372036854775809}}`,
		`{"Validity":{"Value":99999999999999999999}}`, `{"Validity":{"Value":true}}`, `{"Validity":{"Type":1}}`,
		`{"Csr":null}`, `{"Csr":1}`, `{"Csr":"***"}`, `{"Csr":"QUJ"}`, `{"Csr":"QU\/D"}`, "{\"Csr\":\"QU\nJD\"}", "{\"Csr\":\"QU\rJD\"}",
		`{"Csr":"QUJD\"}`, `{"CertificateAuthorityArn":"a\"b"}`, `{"CertificateAuthorityArn":"a\nb"}`, "{\"CertificateAuthorityArn\":\"a\tb\"}",
		"{\"CertificateAuthorityArn\":\"\xff\"}", "{\"CertificateAuthorityArn\":\"\xed\xa0\x80\"}", `{"CertificateAuthorityArn":null}`,
		`{"CertificateAuthorityArn":5}`, `{"SigningAlgorithm":[]}`, "\v{}", "\xef\xbb\xbf{}",
	} {
		b := []byte(r.Replace(body))
		if checkIssueFast(t, b) {
			t.Errorf("accepted %s", b)
		}
	}
}

// FuzzIssueFastPath is the differential check of the fast path against
// restjson.Unmarshal and auditParams: for any body it declines, or yields
// the same input (reflect.DeepEqual) and the same audit parameters
// (bytes.Equal); and where restjson.Unmarshal refuses a body, it declines.
// The corpus (testdata/fuzz/FuzzIssueFastPath) holds bodies as the AWS SDK
// for Go v2 and botocore send them and the edges of what the fast path
// takes.
func FuzzIssueFastPath(f *testing.F) {
	bodies, _ := sdkIssueBodies(f)
	for _, b := range bodies {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkIssueFast(t, body)
	})
}

// FuzzIssueFastPathShaped is FuzzIssueFastPath on bodies built in the
// shape the fast path takes, so that many of them reach its accepting
// side: the members (present or not, in any order, repeated or not) with
// fuzzed text placed between quotes as it is, fuzzed whitespace between
// tokens, a Csr that is the base64 of fuzzed bytes or fuzzed text, and
// Validity values that are fuzzed integers or fuzzed number text.
func FuzzIssueFastPathShaped(f *testing.F) {
	f.Add("arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/c", "SHA256WITHECDSA", "arn:aws:acm-pca:::template/EndEntityCertificate/V1",
		"token", "DAYS", int64(30), "1700000000", []byte("-----BEGIN CERTIFICATE REQUEST-----"), uint64(0), "", uint16(0x7f))
	f.Add("ü<&>", "", "a\"b", "\u00e9", "HOURS", int64(-1), "1.5", []byte{}, uint64(12345), " \t\n\r", uint16(0x5555))
	f.Fuzz(func(t *testing.T, caArn, alg, template, token, vType string, vValue int64, nbValue string, csr []byte, order uint64, ws string, flags uint16) {
		space := func(k int) string { // some of ws before token k
			if ws == "" {
				return ""
			}
			return ws[:k%(len(ws)+1)]
		}
		if flags&(1<<11) == 0 { // mostly text the fast path takes
			clean := func(s string) string {
				return strings.Map(func(r rune) rune {
					if r == '"' || r == '\\' || r < 0x20 {
						return -1
					}
					return r
				}, s)
			}
			caArn, alg, template, token, vType = clean(caArn), clean(alg), clean(template), clean(token), clean(vType)
		}
		csrText := base64.StdEncoding.EncodeToString(csr)
		if flags&(1<<8) != 0 {
			csrText = string(csr)
		}
		vText := strconv.FormatInt(vValue, 10)
		if flags&(1<<9) != 0 {
			vText = nbValue
		}
		members := []string{
			`"CertificateAuthorityArn"` + space(1) + ":" + space(2) + `"` + caArn + `"`,
			`"Csr"` + space(3) + ":" + space(4) + `"` + csrText + `"`,
			`"SigningAlgorithm":` + space(5) + `"` + alg + `"`,
			`"TemplateArn"` + space(6) + `:"` + template + `"`,
			`"IdempotencyToken":"` + token + `"`,
			`"Validity":{` + space(7) + `"Type"` + space(8) + `:` + `"` + vType + `"` + space(9) + `,"Value":` + vText + space(10) + `}`,
			`"ValidityNotBefore":{"Value":` + space(11) + nbValue + `,"Type":"` + vType + `"}`,
		}
		var picked []string
		for i, m := range members {
			if flags&(1<<i) != 0 {
				picked = append(picked, m)
			}
		}
		if flags&(1<<10) != 0 && len(picked) > 0 { // a repeated member
			picked = append(picked, picked[int(order%uint64(len(picked)))])
		}
		for i := len(picked) - 1; i > 0; i-- { // shuffle by order
			j := int(order % uint64(i+1))
			order /= uint64(i + 1)
			picked[i], picked[j] = picked[j], picked[i]
		}
		body := space(12) + "{" + space(13) + strings.Join(picked, space(14)+","+space(15)) + space(16) + "}" + space(17)
		checkIssueFast(t, []byte(body))
	})
}

// BenchmarkDecodeIssue compares the fast path with the generic decoding
// (restjson.Unmarshal and auditParams) on the body the SDK sends for a
// P-256 CSR.
func BenchmarkDecodeIssue(b *testing.B) {
	bodies, _ := sdkIssueBodies(b)
	body := bodies[0]
	b.Logf("body: %d bytes", len(body))
	b.Run("generic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var in issueInput
			c := &call{}
			if err := decode(body, c, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, ok := decodeIssueFast(body); !ok {
				b.Fatal("declined")
			}
		}
	})
}

// The audit lines of IssueCertificate calls through the fast path —
// issued, refused by validation, refused by the CA, and a botocore-shaped
// body — are the bytes json.Marshal writes for their events, and record
// the parameters and responses the generic path would.
func TestIssueAuditLines(t *testing.T) {
	h := newHarness(t, nil)
	caARN, _ := h.createRoot(t, "Audit Root", "", false)
	csr := base64.StdEncoding.EncodeToString(csrPEM(t, newKey(t), &x509.CertificateRequest{Subject: leafSubject}))
	for _, body := range []string{
		`{"CertificateAuthorityArn":"` + caARN + `","Csr":"` + csr + `","SigningAlgorithm":"SHA256WITHECDSA","Validity":{"Type":"DAYS","Value":1}}`,
		`{"CertificateAuthorityArn": "` + caARN + `", "Csr": "` + csr + `", "SigningAlgorithm": "SHA256WITHECDSA", "Validity": {"Type": "DAYS", "Value": 2}}`,
		`{"CertificateAuthorityArn":"` + caARN + `","Csr":"` + csr + `","Validity":{"Type":"DAYS","Value":1}}`,
		`{"CertificateAuthorityArn":"` + caARN + `","Csr":"AAAA","SigningAlgorithm":"SHA256WITHECDSA","Validity":{"Type":"DAYS","Value":1}}`,
	} {
		if _, _, ok := decodeIssueFast([]byte(body)); !ok {
			t.Fatalf("fast path declined %s", body)
		}
		h.call(t, "ACMPrivateCA.IssueCertificate", body)
		ev := h.lastEvent(t)
		if !bytes.Equal(ev.RequestParameters.(json.RawMessage), auditParams([]byte(body))) {
			t.Errorf("requestParameters %s", ev.RequestParameters)
		}
		var got bytes.Buffer
		audit.NewWriter(&got).Record(ev)
		ev.EventVersion, ev.EventType, ev.EventTime = "1.08", "AwsApiCall", ev.EventTime.UTC().Truncate(time.Second)
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), append(want, '\n')) {
			t.Errorf("audit line\n%s\nwant\n%s", got.Bytes(), want)
		}
	}
}

// BenchmarkAuditParams compares the walk that builds the audit record's
// parameters of every write with decoding the body a second time
// (referenceAuditParams, what the walk replaced), on the SDK's
// IssueCertificate body.
func BenchmarkAuditParams(b *testing.B) {
	bodies, _ := sdkIssueBodies(b)
	body := bodies[0]
	b.Run("walk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if auditParams(body) == nil {
				b.Fatal("no parameters")
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if referenceAuditParams(body) == nil {
				b.Fatal("no parameters")
			}
		}
	})
}
