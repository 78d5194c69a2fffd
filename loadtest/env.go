package loadtest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
)

// devServer is a running server as its dev.env describes it, with an
// HTTP client that trusts its CA and keeps conc connections open.
type devServer struct {
	Endpoint string
	Region   string
	Admin    aws.Credentials
	Client   *http.Client
	// Config is for AWS SDK clients of the server: its endpoint, region,
	// HTTP client and admin key.
	Config aws.Config
}

// connect reads dev.env (written by `iamra server --dev`).
func connect(envFile string, conc int) (*devServer, error) {
	env, err := readEnv(envFile)
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(env["AWS_CA_BUNDLE"])
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no certificates in AWS_CA_BUNDLE")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	s := &devServer{
		Endpoint: env["IAMRA_ENDPOINT"], Region: env["AWS_REGION"],
		Admin:  aws.Credentials{AccessKeyID: env["AWS_ACCESS_KEY_ID"], SecretAccessKey: env["AWS_SECRET_ACCESS_KEY"]},
		Client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}
	s.Config = aws.Config{Region: s.Region, BaseEndpoint: aws.String(s.Endpoint), HTTPClient: s.Client,
		Credentials: awscreds.NewStaticCredentialsProvider(s.Admin.AccessKeyID, s.Admin.SecretAccessKey, "")}
	return s, nil
}

func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		line, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		env[k] = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
	}
	return env, s.Err()
}
