package query

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzQueryForm feeds arbitrary query strings and bodies through Parse and
// the list accessors: they must return a form or an error, never panic,
// and a parsed form must hold each name once with lists in index order.
func FuzzQueryForm(f *testing.F) {
	f.Add("Action=GetCallerIdentity&Version=2011-06-15", "", "")
	f.Add("", "Action=CreateRole&RoleName=r&Tags.member.1.Key=k&Tags.member.1.Value=v&Tags.member.2.Key=x", "application/x-www-form-urlencoded; charset=utf-8")
	f.Add("", "Action=UntagRole&TagKeys.member.1=a&TagKeys.member.3=b&TagKeys=", "")
	f.Add("X-Amz-Credential=AKIA%2F20240101%2Fus-east-1%2Fsts%2Faws4_request", "Action=A&Action=B", "application/x-www-form-urlencoded")
	f.Add("", "ContextEntries.member.1.ContextKeyValues.member.1=v&ContextEntries.member.1.ContextKeyName=k", "text/plain")
	f.Add("%zz", "Tags.member.0.Key=&Tags.member.99999999999999999999.Key=", "")
	f.Fuzz(func(t *testing.T, rawQuery, body, ctype string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.URL.RawQuery = rawQuery
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		form, err := Parse(r, []byte(body))
		if err != nil {
			return
		}
		names := form.Names()
		for i := 1; i < len(names); i++ {
			if names[i-1] >= names[i] {
				t.Fatalf("names not unique and sorted: %q", names)
			}
		}
		for _, prefix := range []string{"Tags", "TagKeys", "ContextEntries", "PolicyArns"} {
			ms, err := form.Members(prefix)
			if err != nil {
				continue
			}
			n := 0
			for _, m := range ms {
				n += m.Len()
				if prefix == "ContextEntries" {
					_, _ = m.Strings("ContextKeyValues")
				}
			}
			if n > form.Len() {
				t.Fatalf("%s: %d member values from %d parameters", prefix, n, form.Len())
			}
			_, _ = form.Strings(prefix)
		}
		_, _, _ = form.Int("MaxItems", "maxItems")
		_, _, _ = form.Bool("OnlyAttached", "onlyAttached")
	})
}
