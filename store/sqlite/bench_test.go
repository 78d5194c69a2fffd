package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iamra/iamra/cputime"
	"github.com/iamra/iamra/store"
)

// certDoc is an issued certificate's record as package ca writes it: about
// 1.3 KB of JSON, most of it the PEM.
func certDoc(serial string) []byte {
	return fmt.Appendf(nil, `{"certificateArn":"arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/ca-0000/certificate/%s",`+
		`"certificateAuthorityArn":"arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/ca-0000","serial":"%s",`+
		`"subject":"CN=workload-%s","notBefore":"2026-01-01T00:00:00Z","notAfter":"2026-01-02T00:00:00Z","issuedAt":"2026-01-01T00:00:00Z",`+
		`"templateArn":"arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1","status":"ISSUED","certificatePem":%q}`,
		serial, serial, serial, "-----BEGIN CERTIFICATE-----\n"+strings.Repeat("MIIBszCCAVmgAwIBAgIQ", 37)+"\n-----END CERTIFICATE-----\n")
}

// BenchmarkCertificateBatch records issued certificates the way package ca
// does under load: one Update per batch, each Put creating a ~1.3 KB
// record under a time-ordered ID. It reports the process's CPU time
// (getrusage) per record and per transaction, and the transaction's CPU as
// a ratio to the bound measured in the same run ("x-bare-commit"): writing
// the batch's bytes to a file with one pwrite and making them durable with
// one fdatasync, the least a durable commit of them costs.
func BenchmarkCertificateBatch(b *testing.B) {
	for _, n := range []int{1, 14, 64} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) { benchCertificateBatch(b, n) })
	}
}

func benchCertificateBatch(b *testing.B, n int) {
	s := openTemp(b, Options{PollInterval: -1})
	docs := make([][]byte, 1024)
	for i := range docs {
		docs[i] = certDoc(fmt.Sprintf("%032x", i))
	}
	seq := uint64(0)
	batch := func() {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			for range n {
				seq++
				id := fmt.Sprintf("ca-0000/%016x%016x", seq, seq*7919)
				if _, err := tx.Put(store.Record{Kind: store.KindCertificate, ID: id, Data: docs[seq%uint64(len(docs))]}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// The file settles (grows its first WAL, checkpoints once) before the
	// measured loop, as a server's does within seconds of starting.
	for range 2000 / n {
		batch()
	}
	bare := bareCommitCPU(b, n*len(docs[0]))

	b.ResetTimer()
	cpu := cputime.Self()
	for b.Loop() {
		batch()
	}
	b.StopTimer()
	perTx := float64(cputime.Self()-cpu) / float64(b.N)
	b.ReportMetric(perTx/float64(n)/1e3, "cpu-µs/record")
	b.ReportMetric(perTx/1e3, "cpu-µs/tx")
	b.ReportMetric(perTx/float64(bare), "x-bare-commit")
	b.ReportMetric(float64(bare)/1e3, "bare-cpu-µs/tx")
}

// bareCommitCPU is the CPU time of one durable write of size bytes: a
// pwrite at the next offset of a preallocated file, cycling through it as
// SQLite reuses its WAL, then fdatasync.
func bareCommitCPU(b *testing.B, size int) time.Duration {
	const fileSize = 4 << 20
	const rounds = 500
	f, err := os.Create(filepath.Join(b.TempDir(), "bare"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i)
	}
	if _, err := f.WriteAt(make([]byte, fileSize), 0); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	fd := int(f.Fd())
	off := int64(0)
	cpu := cputime.Self()
	for range rounds {
		if off+int64(size) > fileSize {
			off = 0
		}
		if _, err := syscall.Pwrite(fd, buf, off); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(fd); err != nil {
			b.Fatal(err)
		}
		off += int64(size)
	}
	return (cputime.Self() - cpu) / rounds
}
