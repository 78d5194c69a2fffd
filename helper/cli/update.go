package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/iamra/iamra/atomicfile"
	"github.com/iamra/iamra/helper/rolesclient"
)

// updateRefreshBefore is how long before expiry `update` refreshes, as the
// official helper (UpdateRefreshTime).
const updateRefreshBefore = 5 * time.Minute

// minUpdateWait keeps a loop from spinning when credentials come back
// already close to expiry.
const minUpdateWait = 30 * time.Second

// update keeps a profile of the shared credentials file fresh. The file is
// rewritten atomically (temporary file, fsync, rename) under a lock, with
// mode 0600 in a 0700 directory, keeping every other profile and comment.
func update(ctx context.Context, e *env, args []string) int {
	c := newCommand(e, "update", "Updates a profile in the AWS credentials file with new AWS credentials")
	var f credFlags
	f.register(c)
	profile := c.fs.String("profile", "default", "The profile to update")
	once := c.fs.Bool("once", false, "To update the profile just once")
	retryErrors := c.fs.Bool("retry-errors", false, "Retry indefinitely on errors with a backoff time. Useful for unattended background processes")
	c.exclusive("once", "retry-errors")
	client, in, src, code, ok := f.start(c, args, func() error {
		if strings.TrimSpace(*profile) == "" || strings.ContainsAny(*profile, "[]\r\n") {
			return fmt.Errorf("invalid --profile %q: it must be a non-empty name without brackets or line breaks", *profile)
		}
		return nil
	})
	if !ok {
		return code
	}
	defer src.Close()
	path, err := credentialsPath(e)
	if err != nil {
		e.log.Println(err)
		return 1
	}

	backoff := time.Second
	for {
		out, err := client.CreateSession(ctx, in)
		if err == nil {
			err = writeProfile(path, *profile, out)
		}
		if err != nil {
			e.log.Println(err)
			if !*retryErrors || ctx.Err() != nil {
				return 1
			}
			e.log.Printf("Retrying in %s", backoff)
			if e.sleep(ctx, backoff) != nil {
				return 1
			}
			backoff = min(backoff*2, 5*time.Minute)
			continue
		}
		backoff = time.Second
		if *once {
			return 0
		}
		next := out.ExpirationTime.Add(-updateRefreshBefore)
		wait := max(next.Sub(e.now()), minUpdateWait)
		e.log.Println("Credentials will be refreshed at", e.now().Add(wait).String())
		if e.sleep(ctx, wait) != nil {
			return 0 // stopped (signal): a clean exit
		}
	}
}

// credentialsPath is $AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.
func credentialsPath(e *env) (string, error) {
	if p := e.getenv("AWS_SHARED_CREDENTIALS_FILE"); p != "" {
		return p, nil
	}
	home, err := e.homeDir()
	if err != nil {
		return "", fmt.Errorf("unable to locate the home directory: %w", err)
	}
	return filepath.Join(home, ".aws", "credentials"), nil
}

// writeProfile sets profile's keys in the credentials file at path.
func writeProfile(path, profile string, out rolesclient.Output) error {
	// Write through a symlink (dotfile managers link ~/.aws/credentials)
	// instead of replacing the link with a file.
	if r, err := filepath.EvalSymlinks(path); err == nil {
		path = r
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("unable to create the credentials directory: %w", err)
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return fmt.Errorf("unable to lock the credentials file: %w", err)
	}
	defer unlock()
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unable to read the credentials file: %w", err)
	}
	data := setProfile(old, profile, []string{out.AccessKeyID, out.SecretAccessKey, out.SessionToken})
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("unable to write to AWS credentials file: %w", err)
	}
	return nil
}
