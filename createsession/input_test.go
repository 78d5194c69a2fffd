package createsession

import (
	"net/url"
	"testing"
)

const (
	taARN   = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a1b2c3d4-0000-1111-2222-333344445555"
	profARN = "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p1b2c3d4-0000-1111-2222-333344445555"
	roleARN = "arn:aws:iam::123456789012:role/test-role"
)

func TestParseInput(t *testing.T) {
	q := url.Values{"trustAnchorArn": {taARN}, "profileArn": {profARN}, "roleArn": {roleARN}}
	tests := []struct {
		name    string
		query   url.Values
		body    string
		wantErr string
		dur     int64
	}{
		{name: "official client", query: q, body: `{"durationSeconds":3600}`, dur: 3600},
		{name: "envoy float duration in body", body: `{"durationSeconds":3600.0,"trustAnchorArn":"` + taARN + `","profileArn":"` + profARN + `","roleArn":"` + roleARN + `"}`, dur: 3600},
		{name: "empty body", query: q},
		{name: "both places agree", query: q, body: `{"roleArn":"` + roleARN + `"}`},
		{name: "both places disagree", query: q, body: `{"roleArn":"arn:aws:iam::123456789012:role/other"}`,
			wantErr: "ValidationException: Conflicting values for [roleArn] in the query string and the request body."},
		{name: "too short", query: q, body: `{"durationSeconds":5}`,
			wantErr: "ValidationException: 1 validation error detected: Value '5' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{name: "too long", query: q, body: `{"durationSeconds":43201}`,
			wantErr: "ValidationException: 1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
		{name: "fractional", query: q, body: `{"durationSeconds":3600.5}`,
			wantErr: "ValidationException: 1 validation error detected: Value '3600.5' at 'durationSeconds' failed to satisfy constraint: Member must be an integer"},
		{name: "missing all", body: `{}`,
			wantErr: "ValidationException: 3 validation errors detected: Value null at 'profileArn' failed to satisfy constraint: Member must not be null; Value null at 'roleArn' failed to satisfy constraint: Member must not be null; Value null at 'trustAnchorArn' failed to satisfy constraint: Member must not be null"},
		{name: "bad role arn", query: url.Values{"trustAnchorArn": {taARN}, "profileArn": {profARN}, "roleArn": {"role/x"}},
			wantErr: "ValidationException: 1 validation error detected: Value 'role/x' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[^:]+)?:iam(:.*){2}(:role.*)$"},
		{name: "not json", query: q, body: `{"durationSeconds":`, wantErr: "ValidationException: The request body is not valid JSON."},
		{name: "trailing", query: q, body: `{} {}`, wantErr: "ValidationException: The request body is not valid JSON."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := ParseInput(tc.query, []byte(tc.body))
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("want error %q", tc.wantErr)
				}
				if got := errMessage(err); got != tc.wantErr {
					t.Fatalf("error\n got %q\nwant %q", got, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in.TrustAnchorArn != taARN || in.ProfileArn != profARN || in.RoleArn != roleARN {
				t.Fatalf("ARNs: %+v", in)
			}
			if tc.dur != 0 && (in.DurationSeconds == nil || *in.DurationSeconds != tc.dur) {
				t.Fatalf("duration %v", in.DurationSeconds)
			}
		})
	}
}
