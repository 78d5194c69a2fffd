package acmpca

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"
)

// FuzzACMPCABody sends arbitrary JSON bodies to every operation of a
// server holding an ACTIVE CA. Whatever the body, the answer is a success
// or a 4xx in the protocol's envelope, never a 5xx (which is also what a
// recovered panic becomes). In bodies, $CA stands for the CA's ARN,
// $CERT for a certificate it issued and $CSR for a valid base64 CSR, so
// seeds reach the operations' logic rather than stopping at "not found".
func FuzzACMPCABody(f *testing.F) {
	h := newHarness(f, nil)
	caARN, _ := h.createRoot(f, "Fuzz Root", "", true)
	csr := base64.StdEncoding.EncodeToString(csrPEM(f, newKey(f), &x509.CertificateRequest{Subject: leafSubject}))
	issued, err := h.client.IssueCertificate(context.Background(), &acmpca.IssueCertificateInput{CertificateAuthorityArn: &caARN,
		Csr: csrPEM(f, newKey(f), &x509.CertificateRequest{Subject: leafSubject}), SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
		Validity: &types.Validity{Type: types.ValidityPeriodTypeDays, Value: aws.Int64(30)}})
	if err != nil {
		f.Fatal(err)
	}
	handler := New(Config{Service: h.svc, Store: h.store, Scope: testScope, Now: h.clock.Now})
	ops := handler.Operations()
	slices.Sort(ops)
	replacer := strings.NewReplacer("$CA", caARN, "$CERT", *issued.CertificateArn, "$CSR", csr)
	f.Add(uint8(0), []byte(`{}`))
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		name := ops[int(op)%len(ops)]
		b := replacer.Replace(string(body))
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(b))
		req.Header.Set("X-Amz-Target", TargetPrefix+name)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", name, b, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			var e errorBody
			if err := json.NewDecoder(bytes.NewReader(rec.Body.Bytes())).Decode(&e); err != nil || e.Type == "" || e.Type != rec.Header().Get("X-Amzn-ErrorType") {
				t.Fatalf("%s %s: error envelope %q", name, b, rec.Body)
			}
		}
	})
}
