package rolesanywhere

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere/types"

	ra "github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/trust/trusttest"
)

func TestCRLs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	root := e.pki.Root("CRL Root")
	ta := got(e.client.CreateTrustAnchor(ctx, &sdk.CreateTrustAnchorInput{Name: aws.String("ta"), Source: bundleSource(root.PEM())})).ok(t).TrustAnchor
	taArn := aws.ToString(ta.TrustAnchorArn)
	leaf := e.pki.Leaf(root, "revoked")
	pemCRL := trusttest.CRLPEM(e.pki.CRL(root, trusttest.Revoke(leaf.Cert)))
	derCRL := e.pki.CRL(root).Raw

	imp := got(e.client.ImportCrl(ctx, &sdk.ImportCrlInput{Name: aws.String("pem crl"), CrlData: pemCRL, TrustAnchorArn: aws.String(taArn)})).ok(t)
	if got := status(t, imp.ResultMetadata); got != http.StatusCreated {
		t.Fatalf("ImportCrl status %d, want 201", got)
	}
	pemID := aws.ToString(imp.Crl.CrlId)
	if aws.ToBool(imp.Crl.Enabled) || aws.ToString(imp.Crl.TrustAnchorArn) != taArn ||
		aws.ToString(imp.Crl.CrlArn) != "arn:aws:rolesanywhere:us-east-1:123456789012:crl/"+pemID || !bytes.Equal(imp.Crl.CrlData, pemCRL) {
		t.Fatalf("ImportCrl (PEM) = %+v", imp.Crl)
	}
	der := got(e.client.ImportCrl(ctx, &sdk.ImportCrlInput{Name: aws.String("der"), CrlData: derCRL, TrustAnchorArn: aws.String(taArn), Enabled: aws.Bool(true)})).ok(t).Crl
	derID := aws.ToString(der.CrlId)
	if !aws.ToBool(der.Enabled) {
		t.Error("enabled=true not kept")
	}
	if got := got(e.client.GetCrl(ctx, &sdk.GetCrlInput{CrlId: aws.String(derID)})).ok(t).Crl; !bytes.Equal(got.CrlData, derCRL) {
		t.Fatal("GetCrl did not return the DER bytes imported")
	}

	_, err := e.client.ImportCrl(ctx, &sdk.ImportCrlInput{Name: aws.String("third"), CrlData: derCRL, TrustAnchorArn: aws.String(taArn)})
	wantAPIError[*types.ValidationException](t, err, "A trust anchor can have at most 2 CRLs")
	_, err = e.client.ImportCrl(ctx, &sdk.ImportCrlInput{Name: aws.String("bad"), CrlData: []byte("not a CRL"), TrustAnchorArn: aws.String(taArn)})
	wantAPIError[*types.ValidationException](t, err, "Invalid CRL: not an X.509 v2 CRL: x509: malformed crl")
	_, err = e.client.ImportCrl(ctx, &sdk.ImportCrlInput{Name: aws.String("orphan"), CrlData: derCRL,
		TrustAnchorArn: aws.String("arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/00000000-0000-4000-8000-000000000000")})
	wantAPIError[*types.ValidationException](t, err,
		"Trust anchor not found: arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/00000000-0000-4000-8000-000000000000")
	_, err = e.client.ImportCrl(ctx, &sdk.ImportCrlInput{Name: aws.String("x"), CrlData: derCRL, TrustAnchorArn: aws.String("arn:aws:rolesanywhere:us-east-1:123456789012:profile/x")})
	wantAPIError[*types.ValidationException](t, err,
		"1 validation error detected: Value 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/x' at 'trustAnchorArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[^:]+)?:rolesanywhere(:.*){2}(:trust-anchor.*)$")

	upd := got(e.client.UpdateCrl(ctx, &sdk.UpdateCrlInput{CrlId: aws.String(pemID), Name: aws.String("renamed"), CrlData: derCRL})).ok(t).Crl
	if aws.ToString(upd.Name) != "renamed" || !bytes.Equal(upd.CrlData, derCRL) || !upd.UpdatedAt.After(*upd.CreatedAt) {
		t.Fatalf("UpdateCrl = %+v", upd)
	}
	_, err = e.client.UpdateCrl(ctx, &sdk.UpdateCrlInput{CrlId: aws.String(pemID), CrlData: []byte("junk")})
	wantAPIError[*types.ValidationException](t, err, "Invalid CRL: not an X.509 v2 CRL: x509: malformed crl")

	if !aws.ToBool(got(e.client.EnableCrl(ctx, &sdk.EnableCrlInput{CrlId: aws.String(pemID)})).ok(t).Crl.Enabled) {
		t.Error("EnableCrl did not enable")
	}
	if aws.ToBool(got(e.client.DisableCrl(ctx, &sdk.DisableCrlInput{CrlId: aws.String(pemID)})).ok(t).Crl.Enabled) {
		t.Error("DisableCrl did not disable")
	}
	if n := len(got(e.client.ListCrls(ctx, &sdk.ListCrlsInput{})).ok(t).Crls); n != 2 {
		t.Fatalf("ListCrls: %d CRLs, want 2", n)
	}

	if gone := got(e.client.DeleteCrl(ctx, &sdk.DeleteCrlInput{CrlId: aws.String(pemID)})).ok(t).Crl; aws.ToString(gone.CrlId) != pemID {
		t.Fatalf("DeleteCrl returned %+v", gone)
	}
	_, err = e.client.GetCrl(ctx, &sdk.GetCrlInput{CrlId: aws.String(pemID)})
	wantAPIError[*types.ResourceNotFoundException](t, err, "Resource not found")

	// Deleting the trust anchor deletes its remaining CRL.
	got(e.client.DeleteTrustAnchor(ctx, &sdk.DeleteTrustAnchorInput{TrustAnchorId: ta.TrustAnchorId})).ok(t)
	_, err = e.client.GetCrl(ctx, &sdk.GetCrlInput{CrlId: aws.String(derID)})
	wantAPIError[*types.ResourceNotFoundException](t, err, "Resource not found")
	events := e.audit()
	for _, ev := range events {
		if ev.EventName != "ImportCrl" || ev.ErrorCode != "" {
			continue
		}
		params, resp := ev.RequestParameters.(map[string]any), ev.ResponseElements.(map[string]any)
		if params["crlDataLength"] == nil || params["crlData"] != nil || resp["crlDataLength"] == nil || resp["crl"].(ra.CRL).CrlData != nil {
			t.Errorf("ImportCrl audit record carries the CRL: %+v", ev)
		}
	}
	last := events[len(events)-1]
	if res := last.AdditionalEventData["resources"].([]string); last.EventName != "DeleteTrustAnchor" || len(res) != 2 || res[1] != aws.ToString(der.CrlArn) {
		t.Errorf("cascade not audited: %+v", last)
	}
	if n := len(got(e.client.ListCrls(ctx, &sdk.ListCrlsInput{})).ok(t).Crls); n != 0 {
		t.Fatalf("ListCrls after cascade: %d CRLs", n)
	}
}
