//go:build !linux

package tpmtest

import "syscall"

func dieWithParent() *syscall.SysProcAttr { return nil }
