package rolesanywhere

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere/types"

	"github.com/iamra/iamra/awserr"
	ra "github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/trust/trusttest"
)

func bundleSource(pem string) *types.Source {
	return &types.Source{SourceType: types.TrustAnchorTypeCertificateBundle,
		SourceData: &types.SourceDataMemberX509CertificateData{Value: pem}}
}

func defaultSetting(event types.NotificationEvent) types.NotificationSettingDetail {
	return types.NotificationSettingDetail{Enabled: aws.Bool(true), Event: event, Threshold: aws.Int32(45),
		Channel: types.NotificationChannelAll, ConfiguredBy: aws.String("rolesanywhere.amazonaws.com")}
}

func checkSettings(t *testing.T, got []types.NotificationSettingDetail, want ...types.NotificationSettingDetail) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d notification settings, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if aws.ToBool(g.Enabled) != aws.ToBool(w.Enabled) || g.Event != w.Event || aws.ToInt32(g.Threshold) != aws.ToInt32(w.Threshold) ||
			g.Channel != w.Channel || aws.ToString(g.ConfiguredBy) != aws.ToString(w.ConfiguredBy) {
			t.Errorf("setting %d = {%v %s %d %s %s}, want {%v %s %d %s %s}", i,
				aws.ToBool(g.Enabled), g.Event, aws.ToInt32(g.Threshold), g.Channel, aws.ToString(g.ConfiguredBy),
				aws.ToBool(w.Enabled), w.Event, aws.ToInt32(w.Threshold), w.Channel, aws.ToString(w.ConfiguredBy))
		}
	}
}

func TestTrustAnchorLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	root := e.pki.Root("Test Root CA")
	next := e.pki.Root("Next Root CA", trusttest.FreshKey())

	created := got(e.client.CreateTrustAnchor(ctx, &sdk.CreateTrustAnchorInput{
		Name: aws.String("my anchor_1"), Source: bundleSource(root.PEM()),
	})).ok(t)
	if got := status(t, created.ResultMetadata); got != http.StatusCreated {
		t.Fatalf("CreateTrustAnchor status %d, want 201", got)
	}
	ta := created.TrustAnchor
	id := aws.ToString(ta.TrustAnchorId)
	if !ra.ValidID(id) {
		t.Fatalf("trustAnchorId %q is not a lower-case UUID", id)
	}
	if got, want := aws.ToString(ta.TrustAnchorArn), "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/"+id; got != want {
		t.Fatalf("ARN %s, want %s", got, want)
	}
	if aws.ToBool(ta.Enabled) {
		t.Error("enabled omitted must mean false")
	}
	if aws.ToString(ta.Name) != "my anchor_1" || ta.Source.SourceType != types.TrustAnchorTypeCertificateBundle {
		t.Errorf("name/source = %q/%s", aws.ToString(ta.Name), ta.Source.SourceType)
	}
	if d, ok := ta.Source.SourceData.(*types.SourceDataMemberX509CertificateData); !ok || d.Value != root.PEM() {
		t.Errorf("sourceData = %#v, want the PEM sent", ta.Source.SourceData)
	}
	if ta.CreatedAt == nil || ta.UpdatedAt == nil || !ta.CreatedAt.Equal(*ta.UpdatedAt) {
		t.Errorf("createdAt %v updatedAt %v", ta.CreatedAt, ta.UpdatedAt)
	}
	checkSettings(t, ta.NotificationSettings, defaultSetting(types.NotificationEventCaCertificateExpiry),
		defaultSetting(types.NotificationEventEndEntityCertificateExpiry))

	get := got(e.client.GetTrustAnchor(ctx, &sdk.GetTrustAnchorInput{TrustAnchorId: aws.String(id)})).ok(t)
	if status(t, get.ResultMetadata) != http.StatusOK || aws.ToString(get.TrustAnchor.Name) != "my anchor_1" {
		t.Fatalf("GetTrustAnchor = %+v", get.TrustAnchor)
	}

	// Rotation: two CA certificates in one anchor.
	upd := got(e.client.UpdateTrustAnchor(ctx, &sdk.UpdateTrustAnchorInput{
		TrustAnchorId: aws.String(id), Name: aws.String("renamed"), Source: bundleSource(root.PEM() + next.PEM()),
	})).ok(t)
	if aws.ToString(upd.TrustAnchor.Name) != "renamed" || !upd.TrustAnchor.UpdatedAt.After(*ta.CreatedAt) {
		t.Fatalf("UpdateTrustAnchor = %+v", upd.TrustAnchor)
	}
	if d := upd.TrustAnchor.Source.SourceData.(*types.SourceDataMemberX509CertificateData); d.Value != root.PEM()+next.PEM() {
		t.Fatal("UpdateTrustAnchor did not replace the bundle")
	}

	en := got(e.client.EnableTrustAnchor(ctx, &sdk.EnableTrustAnchorInput{TrustAnchorId: aws.String(id)})).ok(t)
	if !aws.ToBool(en.TrustAnchor.Enabled) || status(t, en.ResultMetadata) != http.StatusOK {
		t.Fatal("EnableTrustAnchor did not enable")
	}
	dis := got(e.client.DisableTrustAnchor(ctx, &sdk.DisableTrustAnchorInput{TrustAnchorId: aws.String(id)})).ok(t)
	if aws.ToBool(dis.TrustAnchor.Enabled) {
		t.Fatal("DisableTrustAnchor did not disable")
	}

	put := got(e.client.PutNotificationSettings(ctx, &sdk.PutNotificationSettingsInput{
		TrustAnchorId: aws.String(id),
		NotificationSettings: []types.NotificationSetting{
			{Enabled: aws.Bool(true), Event: types.NotificationEventEndEntityCertificateExpiry, Threshold: aws.Int32(10)},
		},
	})).ok(t)
	custom := types.NotificationSettingDetail{Enabled: aws.Bool(true), Event: types.NotificationEventEndEntityCertificateExpiry,
		Threshold: aws.Int32(10), Channel: types.NotificationChannelAll, ConfiguredBy: aws.String("123456789012")}
	checkSettings(t, put.TrustAnchor.NotificationSettings, defaultSetting(types.NotificationEventCaCertificateExpiry), custom)

	// Disabling without a threshold keeps the threshold.
	put = got(e.client.PutNotificationSettings(ctx, &sdk.PutNotificationSettingsInput{
		TrustAnchorId: aws.String(id),
		NotificationSettings: []types.NotificationSetting{
			{Enabled: aws.Bool(false), Event: types.NotificationEventCaCertificateExpiry, Channel: types.NotificationChannelAll},
		},
	})).ok(t)
	off := defaultSetting(types.NotificationEventCaCertificateExpiry)
	off.Enabled, off.ConfiguredBy = aws.Bool(false), aws.String("123456789012")
	checkSettings(t, put.TrustAnchor.NotificationSettings, off, custom)

	reset := got(e.client.ResetNotificationSettings(ctx, &sdk.ResetNotificationSettingsInput{
		TrustAnchorId:           aws.String(id),
		NotificationSettingKeys: []types.NotificationSettingKey{{Event: types.NotificationEventEndEntityCertificateExpiry}, {Event: types.NotificationEventCaCertificateExpiry}},
	})).ok(t)
	checkSettings(t, reset.TrustAnchor.NotificationSettings, defaultSetting(types.NotificationEventCaCertificateExpiry),
		defaultSetting(types.NotificationEventEndEntityCertificateExpiry))

	second := got(e.client.CreateTrustAnchor(ctx, &sdk.CreateTrustAnchorInput{
		Name: aws.String("second"), Source: bundleSource(next.PEM()), Enabled: aws.Bool(true),
		NotificationSettings: []types.NotificationSetting{{Enabled: aws.Bool(false), Event: types.NotificationEventCaCertificateExpiry}},
	})).ok(t)
	if !aws.ToBool(second.TrustAnchor.Enabled) {
		t.Error("enabled=true was not kept")
	}
	off.Threshold = aws.Int32(45)
	checkSettings(t, second.TrustAnchor.NotificationSettings, off, defaultSetting(types.NotificationEventEndEntityCertificateExpiry))

	list := got(e.client.ListTrustAnchors(ctx, &sdk.ListTrustAnchorsInput{})).ok(t)
	if len(list.TrustAnchors) != 2 || list.NextToken != nil {
		t.Fatalf("ListTrustAnchors: %d anchors, token %v", len(list.TrustAnchors), list.NextToken)
	}

	del := got(e.client.DeleteTrustAnchor(ctx, &sdk.DeleteTrustAnchorInput{TrustAnchorId: aws.String(id)})).ok(t)
	if aws.ToString(del.TrustAnchor.TrustAnchorId) != id || aws.ToString(del.TrustAnchor.Name) != "renamed" {
		t.Fatalf("DeleteTrustAnchor returned %+v", del.TrustAnchor)
	}
	_, err := e.client.GetTrustAnchor(ctx, &sdk.GetTrustAnchorInput{TrustAnchorId: aws.String(id)})
	wantAPIError[*types.ResourceNotFoundException](t, err, "Resource not found")
	_, err = e.client.DeleteTrustAnchor(ctx, &sdk.DeleteTrustAnchorInput{TrustAnchorId: aws.String(id)})
	wantAPIError[*types.ResourceNotFoundException](t, err, "Resource not found")

	// Every write was audited, with the caller and the resource.
	events := e.audit()
	if len(events) != 10 {
		t.Fatalf("%d audit events, want 10", len(events))
	}
	last := events[len(events)-1]
	if last.EventName != "DeleteTrustAnchor" || last.ErrorCode != "ResourceNotFoundException" || last.UserIdentity.Arn != testCaller ||
		last.AdditionalEventData["reason"] != "resource.not_found" || last.RequestID == "" {
		t.Errorf("last audit event = %+v", last)
	}
	if ev := events[0]; ev.EventName != "CreateTrustAnchor" || ev.ErrorCode != "" || ev.UserIdentity.Type != "IAMUser" ||
		ev.AdditionalEventData["resources"].([]string)[0] != "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/"+id {
		t.Errorf("first audit event = %+v", ev)
	}
}

func TestTrustAnchorSources(t *testing.T) {
	ctx := context.Background()
	const (
		pcaArn    = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555"
		deniedArn = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/99999999-2222-3333-4444-555555555555"
	)

	t.Run("no PCA resolver", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.client.CreateTrustAnchor(ctx, &sdk.CreateTrustAnchorInput{Name: aws.String("pca"),
			Source: &types.Source{SourceType: types.TrustAnchorTypeAwsAcmPca, SourceData: &types.SourceDataMemberAcmPcaArn{Value: pcaArn}}})
		wantAPIError[*types.ValidationException](t, err,
			"AWS_ACM_PCA trust anchors are not supported by this server (no AWS Private CA access is configured); use CERTIFICATE_BUNDLE with the CA certificate PEM")
	})

	t.Run("PCA resolver", func(t *testing.T) {
		var root string
		e := newEnv(t, func(c *Config) {
			c.ResolvePCA = func(_ context.Context, a string) (string, error) {
				switch a {
				case pcaArn:
					return root, nil
				case deniedArn:
					return "", errors.New("AccessDeniedException: not authorized to perform acm-pca:GetCertificateAuthorityCertificate")
				}
				return "", awserr.Validation("unexpected ARN " + a)
			}
		})
		root = e.pki.Root("PCA root").PEM()
		out := got(e.client.CreateTrustAnchor(ctx, &sdk.CreateTrustAnchorInput{Name: aws.String("pca"),
			Source: &types.Source{SourceType: types.TrustAnchorTypeAwsAcmPca, SourceData: &types.SourceDataMemberAcmPcaArn{Value: pcaArn}}})).ok(t)
		if d, ok := out.TrustAnchor.Source.SourceData.(*types.SourceDataMemberAcmPcaArn); !ok || d.Value != pcaArn {
			t.Fatalf("sourceData = %#v, want only the acmPcaArn", out.TrustAnchor.Source.SourceData)
		}
		stored, err := load[ra.TrustAnchor](ctx, e.st, "trust-anchor", aws.ToString(out.TrustAnchor.TrustAnchorId))
		if err != nil || stored.CertificatePEM() != root {
			t.Fatalf("stored PCA certificate: %v, %q", err, stored.ResolvedCertificateData)
		}
		_, err = e.client.UpdateTrustAnchor(ctx, &sdk.UpdateTrustAnchorInput{TrustAnchorId: out.TrustAnchor.TrustAnchorId,
			Source: &types.Source{SourceType: types.TrustAnchorTypeAwsAcmPca, SourceData: &types.SourceDataMemberAcmPcaArn{Value: deniedArn}}})
		wantAPIError[*types.ValidationException](t, err, "Error updating TrustAnchor. Given AWS PCA did not allow get request.")
		_, err = e.client.CreateTrustAnchor(ctx, &sdk.CreateTrustAnchorInput{Name: aws.String("pca"),
			Source: &types.Source{SourceType: types.TrustAnchorTypeAwsAcmPca, SourceData: &types.SourceDataMemberAcmPcaArn{Value: "arn:aws:iam::1:role/r"}}})
		wantAPIError[*types.ValidationException](t, err,
			"Invalid acmPcaArn: 'arn:aws:iam::1:role/r' is not the ARN of an AWS Private CA certificate authority")
	})

	e := newEnv(t)
	expired := e.pki.Root("Old Root", trusttest.Validity(e.start.AddDate(-2, 0, 0), e.start.AddDate(-1, 0, 0)))
	leaf := e.pki.Leaf(e.pki.Root("Leaf issuer"), "leaf")
	for _, tc := range []struct {
		name   string
		source *types.Source
		want   string
	}{
		{"self-signed repository", &types.Source{SourceType: types.TrustAnchorTypeSelfSignedRepository,
			SourceData: &types.SourceDataMemberX509CertificateData{Value: "x"}},
			"sourceType SELF_SIGNED_REPOSITORY is not supported; use CERTIFICATE_BUNDLE or AWS_ACM_PCA"},
		{"bundle with a PCA ARN", &types.Source{SourceType: types.TrustAnchorTypeCertificateBundle,
			SourceData: &types.SourceDataMemberAcmPcaArn{Value: pcaArn}},
			"sourceType CERTIFICATE_BUNDLE requires sourceData.x509CertificateData"},
		{"no source data", &types.Source{SourceType: types.TrustAnchorTypeCertificateBundle},
			"1 validation error detected: Value null at 'source.sourceData' failed to satisfy constraint: Member must not be null"},
		{"not PEM", bundleSource("hello"),
			"Invalid certificate bundle: the data does not start with a PEM BEGIN line"},
		{"expired CA", bundleSource(expired.PEM()), "Invalid certificate bundle: certificate 1"},
		{"end-entity certificate", bundleSource(leaf.PEM()), "Invalid certificate bundle: certificate 1"},
		{"too long", bundleSource(strings.Repeat("A", 16001)),
			"1 validation error detected: Value '" + strings.Repeat("A", 16001) +
				"' at 'source.sourceData.x509CertificateData' failed to satisfy constraint: Member must have length less than or equal to 16000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.CreateTrustAnchor(ctx, &sdk.CreateTrustAnchorInput{Name: aws.String("x"), Source: tc.source})
			var ve *types.ValidationException
			if !errors.As(err, &ve) || !strings.HasPrefix(ve.ErrorMessage(), tc.want) {
				t.Fatalf("error %v, want a ValidationException starting %q", err, tc.want)
			}
		})
	}

	_, err := e.client.CreateTrustAnchor(ctx, &sdk.CreateTrustAnchorInput{Name: aws.String("dp"),
		Source: bundleSource(e.pki.Root("R").PEM()), CrlDpRevocationEnabled: aws.Bool(true)})
	wantAPIError[*types.ValidationException](t, err, "crlDpRevocationEnabled is not supported by this server; import CRLs with ImportCrl instead")
}
