package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/iamra/iamra/helper/keysource"
	"github.com/iamra/iamra/helper/rolesclient"
)

// keyOptions turns the key flags into keysource options.
func keyOptions(e *env, certificate, privateKey, intermediates, selector, password, pkcs11Lib string, reusePIN, latest bool) (keysource.Options, error) {
	o := keysource.Options{
		Certificate: certificate, PrivateKey: privateKey, Intermediates: intermediates,
		Password: password, PKCS11Lib: pkcs11Lib, ReusePIN: reusePIN, UseLatestExpiring: latest, Sleep: e.sleep,
		TPMDevice: e.getenv("TPM_DEVICE"),
	}
	if password == "" {
		o.Prompt = e.prompt // the official helper asks on /dev/tty
	}
	if selector != "" {
		sel, err := keysource.ParseSelector(selector, e.readFile)
		if err != nil {
			return o, err
		}
		o.Selector = sel
	}
	return o, nil
}

// session builds what a CreateSession needs from the shared flags. The
// caller closes the source.
func (f *credFlags) session(e *env) (*rolesclient.Client, rolesclient.Input, keysource.Source, error) {
	for _, r := range []struct{ flag, v string }{{"trust-anchor-arn", f.trustAnchorARN}, {"profile-arn", f.profileARN}, {"role-arn", f.roleARN}} {
		if r.v == "" {
			return nil, rolesclient.Input{}, nil, fmt.Errorf("--%s is required", r.flag)
		}
	}
	ko, err := keyOptions(e, f.certificate, f.privateKey, f.intermediates, f.certSelector, f.pkcs8Password, f.pkcs11Lib, f.reusePIN, f.useLatestExpiring)
	if err != nil {
		return nil, rolesclient.Input{}, nil, err
	}
	ko.TPMKeyPassword, ko.NoTPMKeyPassword = f.tpmKeyPassword, f.noTPMKeyPassword
	hc, err := rolesclient.NewHTTPClient(rolesclient.TransportOptions{NoVerifySSL: f.noVerifySSL, CABundle: e.getenv("AWS_CA_BUNDLE")})
	if err != nil {
		return nil, rolesclient.Input{}, nil, err
	}
	src, err := keysource.Open(ko)
	if err != nil {
		return nil, rolesclient.Input{}, nil, err
	}
	c := rolesclient.New(hc, Version())
	c.Now, c.Sleep, c.Getenv = e.now, e.sleep, e.getenv
	if f.debug {
		c.Logf = e.log.Printf
	}
	in := rolesclient.Input{
		TrustAnchorARN: f.trustAnchorARN, ProfileARN: f.profileARN, RoleARN: f.roleARN,
		DurationSeconds: f.sessionDuration, RoleSessionName: f.roleSessionName,
		Region: f.region, Endpoint: f.endpoint, Identity: src,
	}
	return c, in, src, nil
}

// start parses a credential command's arguments, runs the command's own
// check, and opens the session. When ok is false the command returns code;
// otherwise it closes src when done.
func (f *credFlags) start(c *command, args []string, check func() error) (client *rolesclient.Client, in rolesclient.Input, src keysource.Source, code int, ok bool) {
	if ok, code := c.parse(args); !ok {
		return nil, in, nil, code, false
	}
	err := check()
	if err == nil {
		client, in, src, err = f.session(c.e)
	}
	if err != nil {
		c.e.log.Println(err)
		return nil, in, nil, 1, false
	}
	return client, in, src, 0, true
}

func noCheck() error { return nil }

// credentialProcessOutput is the credential_process JSON, with the official
// helper's member order; encoding/json writes it without spaces, and the
// command prints it without a trailing newline, as the official helper does.
type credentialProcessOutput struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

func credentialProcess(ctx context.Context, e *env, args []string) int {
	c := newCommand(e, "credential-process", "Retrieve AWS credentials in the appropriate format for external credential processes")
	var f credFlags
	f.register(c)
	client, in, src, code, ok := f.start(c, args, noCheck)
	if !ok {
		return code
	}
	defer src.Close()
	out, err := client.CreateSession(ctx, in)
	if err != nil {
		e.log.Println(err)
		return 1
	}
	buf, err := json.Marshal(credentialProcessOutput{Version: 1, AccessKeyID: out.AccessKeyID,
		SecretAccessKey: out.SecretAccessKey, SessionToken: out.SessionToken, Expiration: out.Expiration})
	if err == nil {
		_, err = e.stdout.Write(buf)
	}
	if err != nil {
		e.log.Println(errors.New("writing credentials: " + err.Error()))
		return 1
	}
	return 0
}
