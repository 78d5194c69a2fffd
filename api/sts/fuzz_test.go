package sts

import (
	"net/url"
	"testing"

	"github.com/iamra/iamra/api/query"
)

// FuzzAssumeRoleForm validates arbitrary AssumeRole parameters: an error
// or an input within STS's limits, never a panic.
func FuzzAssumeRoleForm(f *testing.F) {
	f.Add("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s1&DurationSeconds=900&Tags.member.1.Key=k&Tags.member.1.Value=v&TransitiveTagKeys.member.1=k")
	f.Add("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s1&Policy=%7B%7D&PolicyArns.member.1.arn=x")
	f.Add("RoleArn=x&RoleSessionName=&DurationSeconds=-1&SerialNumber=1")
	f.Fuzz(func(t *testing.T, raw string) {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		m := map[string]string{}
		for k, v := range vals {
			m[k] = v[0]
		}
		in, err := parseAssumeRole(query.NewForm(m))
		if err != nil {
			return
		}
		if len(in.sessionName) < 2 || len(in.sessionName) > 64 || len(in.tags) > maxSessionTags || len(in.policyArns) > maxPolicyArns ||
			(in.durationSet && (in.duration < minDuration || in.duration > maxDuration)) {
			t.Fatalf("accepted %+v", in)
		}
	})
}
