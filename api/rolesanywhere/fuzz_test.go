package rolesanywhere

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamra/iamra/api/restjson"
	ra "github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/store/sqlite"
	"github.com/iamra/iamra/trust/trusttest"
)

// fuzzHandler is a handler on a fresh store holding one trust anchor, and
// that anchor's ARN. Ids come from a fixed-seed stream, so the anchor's
// ARN is the same in every run and checked-in corpus entries can name it.
func fuzzHandler(f *testing.F) (*Handler, string, *trusttest.PKI, *trusttest.Cert) {
	f.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), sqlite.Options{PollInterval: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	now := time.Now()
	h := New(Config{Store: dryRun{st}, Scope: testScope, Rand: rand.NewChaCha8([32]byte{}), Now: func() time.Time { return now }})
	pki := trusttest.New(f, crand.Reader, now)
	root := pki.Root("Fuzz Root")
	ta, err := New(Config{Store: st, Scope: testScope, Rand: rand.NewChaCha8([32]byte{})}).CreateTrustAnchor(context.Background(), ra.CreateTrustAnchorInput{Name: ra.Ptr("fuzz"),
		Source: &ra.SourceInput{SourceType: ra.Ptr(ra.SourceCertificateBundle), SourceData: &ra.SourceDataInput{X509CertificateData: ra.Ptr(root.PEM())}}})
	if err != nil {
		f.Fatal(err)
	}
	if testing.Verbose() {
		f.Logf("fuzz trust anchor %s", ta.TrustAnchorArn)
	}
	return h, ta.TrustAnchorArn, pki, root
}

// dryRun runs every Update to the end and then rolls it back, so each
// fuzz input meets the same store: coverage stays a function of the input
// (the fuzzer's minimiser needs that) and the database does not grow.
type dryRun struct{ store.Store }

var errDryRun = errors.New("dry run: rolled back")

func (d dryRun) Update(ctx context.Context, fn func(store.Tx) error) error {
	err := d.Store.Update(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errDryRun
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// fuzzPost POSTs body to path and checks the response is AWS-shaped and
// never a server error.
func fuzzPost(t *testing.T, h *Handler, path string, body []byte) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(body)))
	if rec.Code >= 500 {
		t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
	}
	if len(rec.Header().Get(restjson.HeaderRequestID)) == 0 {
		t.Fatal("no request id")
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("response is not a JSON object: %q", rec.Body)
	}
	if rec.Code >= 300 && (rec.Header().Get(restjson.HeaderErrorType) == "" || doc["__type"] == nil || doc["message"] == nil) {
		t.Fatalf("error response without the envelope: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	if rec.Code < 300 && rec.Code != 201 {
		t.Fatalf("success status %d, want 201", rec.Code)
	}
}

func seedJSON(f *testing.F, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

func FuzzCreateTrustAnchorBody(f *testing.F) {
	h, _, pki, root := fuzzHandler(f)
	seedJSON(f, map[string]any{"name": "a", "source": map[string]any{"sourceType": "CERTIFICATE_BUNDLE",
		"sourceData": map[string]any{"x509CertificateData": root.PEM() + pki.Root("second").PEM()}},
		"enabled": true, "tags": []any{map[string]any{"key": "k", "value": "v"}},
		"notificationSettings": []any{map[string]any{"enabled": true, "event": "CA_CERTIFICATE_EXPIRY", "threshold": 30, "channel": "ALL"}}})
	seedJSON(f, map[string]any{"name": "a", "source": map[string]any{"sourceType": "AWS_ACM_PCA",
		"sourceData": map[string]any{"acmPcaArn": "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x"}}})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzPost(t, h, "/trustanchors", body) })
}

func FuzzCreateProfileBody(f *testing.F) {
	h, _, _, _ := fuzzHandler(f)
	seedJSON(f, map[string]any{"name": "p", "roleArns": []string{roleArn}, "durationSeconds": 900, "enabled": true,
		"sessionPolicy": "{}", "managedPolicyArns": []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
		"acceptRoleSessionName": true, "requireInstanceProperties": false, "tags": []any{map[string]any{"key": "k", "value": ""}}})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzPost(t, h, "/profiles", body) })
}

func FuzzImportCrlBody(f *testing.F) {
	h, taArn, pki, root := fuzzHandler(f)
	seedJSON(f, map[string]any{"name": "c", "trustAnchorArn": taArn, "crlData": pki.CRL(root).Raw, "enabled": true})
	seedJSON(f, map[string]any{"name": "c", "trustAnchorArn": taArn, "crlData": trusttest.CRLPEM(pki.CRL(root))})
	f.Fuzz(func(t *testing.T, body []byte) { fuzzPost(t, h, "/crls", body) })
}
