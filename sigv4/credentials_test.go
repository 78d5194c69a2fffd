package sigv4

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamra/iamra/credentials"
)

// Session credentials minted by package credentials verify statelessly:
// the lookup opens the token, and its errors reach the client in the
// caller's dialect.
func TestVerifyWithMintedSession(t *testing.T) {
	ring, err := credentials.NewKeyRing(t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	minted, err := credentials.Mint(credentials.Session{
		RoleArn: "arn:aws:iam::123456789012:role/r", RoleID: "AROAEXAMPLEEXAMPLE123", RoleSessionName: "s",
		IssuedAt: t0, Expiration: t0.Add(time.Hour),
	}, ring, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: minted.AccessKeyID, SecretAccessKey: minted.SecretAccessKey, SessionToken: minted.SessionToken}
	verifyAt := func(at time.Time, d Dialect) error {
		r, body := toServer(t, stsRequest(t, creds, at))
		_, err := Verify(context.Background(), r, body, VerifyOptions{Now: at, Dialect: d,
			Lookup: func(_ context.Context, akid, token string) (string, error) {
				s, err := credentials.Open(token, akid, ring, at)
				return s.SecretAccessKey, err
			}})
		return err
	}
	if err := verifyAt(t0.Add(59*time.Minute), Query); err != nil {
		t.Fatal(err)
	}
	checkErr(t, verifyAt(t0.Add(time.Hour), Query), Query, expiredToken)
	checkErr(t, verifyAt(t0.Add(time.Hour), JSON), JSON, expiredToken)

	// A token presented with another access key is invalid.
	other, _ := credentials.Mint(credentials.Session{RoleArn: "arn:aws:iam::123456789012:role/r", IssuedAt: t0, Expiration: t0.Add(time.Hour)}, ring, nil)
	creds.SessionToken = other.SessionToken
	checkErr(t, verifyAt(t0, JSON), JSON, wantErr{"UnrecognizedClientException", "InvalidClientTokenId", http.StatusForbidden, http.StatusForbidden, msgInvalidToken, "token.invalid"})
}
