package loadtest

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere/types"

	"github.com/iamra/iamra/sts"
)

// Admin is the control-plane clients Setup creates the target with, both
// signing with an administrator's key.
type Admin struct {
	RolesAnywhere *rolesanywhere.Client
	IAM           *iam.Client
}

// Teardown deletes what Setup created. Its error is for the log only: a
// run's figures stand whether or not the cleanup succeeded.
type Teardown func(context.Context) error

// Setup creates, through the control-plane APIs, a trust anchor holding
// the fixture's CA, an IAM role whose trust policy admits that anchor
// alone, and a profile for the role, and returns the target. The load
// test brings its own role because a server's roles are rightly pinned
// to their own anchors (the dev role trusts the dev anchor only). Names
// are unique per run, so runs against the same server do not collide.
// What was created before an error is deleted before Setup returns.
func Setup(ctx context.Context, c Admin, f *Fixture, endpoint, region string) (Target, Teardown, error) {
	name := fmt.Sprintf("loadtest-%d", time.Now().UnixNano())
	var undo []func(context.Context) error
	teardown := func(ctx context.Context) error {
		var errs []error
		for i := len(undo) - 1; i >= 0; i-- {
			errs = append(errs, undo[i](ctx))
		}
		return errors.Join(errs...)
	}
	fail := func(err error) (Target, Teardown, error) {
		if cerr := teardown(ctx); cerr != nil {
			err = fmt.Errorf("%w (cleanup: %v)", err, cerr)
		}
		return Target{}, nil, err
	}

	ta, err := c.RolesAnywhere.CreateTrustAnchor(ctx, &rolesanywhere.CreateTrustAnchorInput{
		Name: aws.String(name), Enabled: aws.Bool(true),
		Source: &types.Source{SourceType: types.TrustAnchorTypeCertificateBundle, SourceData: &types.SourceDataMemberX509CertificateData{
			Value: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.CA.Raw}))}},
	})
	if err != nil {
		return fail(fmt.Errorf("create trust anchor: %w", err))
	}
	undo = append(undo, func(ctx context.Context) error {
		_, err := c.RolesAnywhere.DeleteTrustAnchor(ctx, &rolesanywhere.DeleteTrustAnchorInput{TrustAnchorId: ta.TrustAnchor.TrustAnchorId})
		return wrap("delete trust anchor", err)
	})

	role, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(sts.TrustPolicy(*ta.TrustAnchor.TrustAnchorArn)),
		Description:              aws.String("iamra loadtest role, trusts trust anchor " + name)})
	if err != nil {
		return fail(fmt.Errorf("create role: %w", err))
	}
	undo = append(undo, func(ctx context.Context) error {
		_, err := c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role.Role.RoleName})
		return wrap("delete role", err)
	})

	p, err := c.RolesAnywhere.CreateProfile(ctx, &rolesanywhere.CreateProfileInput{Name: aws.String(name), Enabled: aws.Bool(true),
		RoleArns: []string{*role.Role.Arn}, DurationSeconds: aws.Int32(3600)})
	if err != nil {
		return fail(fmt.Errorf("create profile: %w", err))
	}
	undo = append(undo, func(ctx context.Context) error {
		_, err := c.RolesAnywhere.DeleteProfile(ctx, &rolesanywhere.DeleteProfileInput{ProfileId: p.Profile.ProfileId})
		return wrap("delete profile", err)
	})
	return Target{Endpoint: endpoint, Region: region, TrustAnchorArn: *ta.TrustAnchor.TrustAnchorArn,
		ProfileArn: *p.Profile.ProfileArn, RoleArn: *role.Role.Arn}, teardown, nil
}

func wrap(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
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
