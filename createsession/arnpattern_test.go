package createsession

import "testing"

var arnSeeds = []string{
	taARN, profARN, roleARN, "arn:aws-us-gov:rolesanywhere:r:1:trust-anchor/x", "arn:aws-:rolesanywhere::1:trust-anchor",
	"arn:aws:rolesanywhere::trust-anchor", "arn:aws:rolesanywhere:::trust-anchor", "arn:aws:rolesanywhere::::trust-anchor",
	"arn:aws:rolesanywhere:a:b:c:trust-anchor", "arn:aws:iam::1:role/x", "arn:aws:iam:::role", "arn:aws:iam::role",
	"arn:awsx:iam::1:role/x", "arn:aws-a:b:iam::1:role", "arn:aws:rolesanywhereX::1:trust-anchor", "", "arn:aws",
	"arn:aws:rolesanywhere:us-east-1:1:profile/trust-anchor", "arn:aws:rolesanywhere:x:trust-anchor:y:trust-anchor",
}

func TestARNPatternMatchesRegexp(t *testing.T) {
	for _, p := range []arnPattern{trustAnchorArnPattern, profileArnPattern, roleArnPattern} {
		for _, s := range arnSeeds {
			if got, want := p.MatchString(s), p.re.MatchString(s); got != want {
				t.Errorf("%s on %q: hand %v, regexp %v", p, s, got, want)
			}
		}
	}
}

func FuzzARNPattern(f *testing.F) {
	for _, s := range arnSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []arnPattern{trustAnchorArnPattern, profileArnPattern, roleArnPattern} {
			if got, want := p.MatchString(s), p.re.MatchString(s); got != want {
				t.Fatalf("%s on %q: hand %v, regexp %v", p, s, got, want)
			}
		}
	})
}
