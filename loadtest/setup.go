package loadtest

import (
	"context"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere/types"
)

// Setup creates, through the control-plane API, a trust anchor holding the
// fixture's CA and a profile for roleArn, and returns the target.
func Setup(ctx context.Context, c *rolesanywhere.Client, f *Fixture, endpoint, region, roleArn string) (Target, error) {
	name := fmt.Sprintf("loadtest-%d", time.Now().UnixNano())
	ta, err := c.CreateTrustAnchor(ctx, &rolesanywhere.CreateTrustAnchorInput{
		Name: aws.String(name), Enabled: aws.Bool(true),
		Source: &types.Source{SourceType: types.TrustAnchorTypeCertificateBundle, SourceData: &types.SourceDataMemberX509CertificateData{
			Value: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.CA.Raw}))}},
	})
	if err != nil {
		return Target{}, fmt.Errorf("create trust anchor: %w", err)
	}
	p, err := c.CreateProfile(ctx, &rolesanywhere.CreateProfileInput{Name: aws.String(name), Enabled: aws.Bool(true),
		RoleArns: []string{roleArn}, DurationSeconds: aws.Int32(3600)})
	if err != nil {
		return Target{}, fmt.Errorf("create profile: %w", err)
	}
	return Target{Endpoint: endpoint, Region: region, TrustAnchorArn: *ta.TrustAnchor.TrustAnchorArn,
		ProfileArn: *p.Profile.ProfileArn, RoleArn: roleArn}, nil
}

// WaitReady sends one request until it succeeds: configuration reaches
// CreateSession through the snapshot a moment after the API call returns.
func WaitReady(ctx context.Context, reqs []*Prepared, o Options) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := Run(ctx, reqs[:1], Options{Concurrency: 1, Duration: 5 * time.Second, Client: o.Client, MaxRequests: 1})
		if r.Statuses[201] == 1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("loadtest: CreateSession never succeeded (statuses %v, errors %d)", r.Statuses, r.Errors)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
