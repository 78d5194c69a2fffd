// Package policy parses, validates and evaluates IAM JSON policy documents:
// role trust policies (who may call sts:AssumeRole, and under which
// conditions), identity policies and session policies.
//
// Every CreateSession ends in an internal sts:AssumeRole whose outcome is
// decided here, against the role's trust policy and a request context built
// from the certificate (aws:SourceArn, aws:PrincipalTag/x509Subject/CN, …).
// A denial must be explainable to the operator, so every Decision names the
// statement that decided and, for a denial, the condition key and operator
// that failed.
//
// The semantics follow the IAM User Guide ("IAM JSON policy elements",
// "Condition operators", "Policy variables", "Policy evaluation logic"):
//
//   - explicit Deny wins, otherwise any Allow, otherwise an implicit deny;
//   - actions match case-insensitively with * and ? wildcards;
//   - resources match case-sensitively; * and ? stay within one of the
//     first five colon-separated ARN segments, except that a * ending a
//     segment may run on across colons (the User Guide's rule);
//   - ArnEquals/ArnLike compare each of the six ARN components separately;
//   - condition keys are case-insensitive, values case-sensitive unless the
//     operator says IgnoreCase; keys in one operator block and operator
//     blocks are ANDed, values for one key are ORed;
//   - a key missing from the request fails the condition, except for
//     negated operators (StringNotEquals, ArnNotLike, …), …IfExists, Null
//     and ForAllValues, which hold; ForAnyValue on a missing key fails;
//   - policy variables (${aws:username}, ${aws:PrincipalTag/x509Subject/CN},
//     ${key, 'default'}, and the escapes ${*} ${?} ${$}) are substituted in
//     Resource and in String, Arn and Bool condition values when Version is
//     2012-10-17; a variable that cannot be resolved matches nothing.
//
// Where the documentation is silent the package chooses the stricter
// reading and says so at the definition: for example a negated operator on
// a multivalued key is true only when no request value matches (NOT any),
// and duplicate JSON object keys are rejected as a syntax error because
// IAM's own behaviour for them is undocumented and ambiguity in a policy is
// a security problem.
//
// The package is pure: no I/O, no clock, no globals. The caller supplies
// the current time as context keys (aws:CurrentTime, aws:EpochTime).
package policy
