package sqlite

import (
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The writer connection opens the database through gatherVFSName: SQLite's
// unix VFS, except that on the database file and its WAL, a run of writes
// each starting where the last ended is gathered in memory and reaches the
// file as one write at SQLite's next call on that file of any other kind:
// a write elsewhere, a read, sync, size, truncate, lock, shared-memory
// call, file control, memory map or close (only the sector-size and
// device-characteristics queries, which say nothing about the contents,
// let the run go on).
//
// SQLite writes each WAL frame as two writes (its 24-byte header, then the
// page), and a checkpoint copies pages into the database one write each, so
// a commit of n pages cost 2n write system calls and its checkpoint n more,
// each paying the kernel's per-call price; after the fsync that was most
// of a small commit's CPU. Gathered, a commit is one write, and a
// checkpoint one per run of consecutive pages.
//
// Nothing anyone can observe changes. The file receives the same bytes in
// the same order relative to every other operation on it, syncs included,
// so what survives a crash or a power loss is what SQLite expects; its own
// next read sees the bytes. Other connections and processes learn of new
// frames or backfilled pages only through the WAL index, which SQLite
// updates after syncing the file it wrote (the store runs with
// synchronous=FULL, which checkWriter enforces) and under locks taken
// through this file's methods, and either call writes the gathered bytes
// first.
const gatherVFSName = "iamra-gather"

// gatherSize bounds the bytes gathered; a longer run takes a write per
// gatherSize, still far fewer than one a page. The unix VFS writes at most
// 128 KiB - 1 bytes a call (it masks the length with 0x1ffff), so it must
// stay below that.
const gatherSize = 120 << 10

// gather is kept in the sqlite3_file SQLite allocates for a file, after the
// unix VFS's own part (see gatherVFS.fileOffset). It lives in C memory, so
// it holds no Go pointers.
type gather struct {
	base uintptr // the unix VFS's io methods for this file
	buf  uintptr // gatherSize bytes from sqlite3_malloc, or 0 until needed
	n    int64   // bytes gathered in buf
	off  int64   // file offset of buf's first byte
}

// gatherVFS is the registered VFS and what its methods need.
// registerGatherVFS sets it, in init, before SQLite can call into it; after
// that it is only read. SQLite keeps pointers to vfs, name and methods,
// which is why they are package variables (they never move) rather than
// allocations.
var gatherVFS struct {
	vfs        sqlite3.Tsqlite3_vfs
	name       [len(gatherVFSName) + 1]byte
	methods    ioMethods
	base       uintptr // the unix VFS
	fileOffset uintptr // where gather starts in a sqlite3_file
	registered bool
}

func init() { registerGatherVFS() }

// registerGatherVFS registers gatherVFSName as a copy of the default VFS
// whose xOpen gives the database and WAL files the gathering io methods.
// Where the default VFS is not SQLite's unix VFS (Windows), whose methods
// these were checked against, it registers nothing and the writer uses the
// default.
func registerGatherVFS() {
	tls := libc.NewTLS()
	defer tls.Close()
	base := sqlite3.Xsqlite3_vfs_find(tls, 0)
	if base == 0 {
		return
	}
	v := &gatherVFS
	v.vfs = *(*sqlite3.Tsqlite3_vfs)(cptr(base))
	if libc.GoString(v.vfs.FzName) != "unix" {
		return
	}
	v.base = base
	v.fileOffset = (uintptr(v.vfs.FszOsFile) + 7) &^ 7
	v.vfs.FszOsFile = int32(v.fileOffset + unsafe.Sizeof(gather{}))
	v.vfs.FpNext = 0
	copy(v.name[:], gatherVFSName)
	v.vfs.FzName = uintptr(unsafe.Pointer(&v.name[0]))
	setFn(&v.vfs.FxOpen, gatherOpen)

	m := &v.methods
	m.FiVersion = 3
	setFn(&m.FxClose, gatherClose)
	setFn(&m.FxRead, gatherRead)
	setFn(&m.FxWrite, gatherWrite)
	setFn(&m.FxTruncate, gatherTruncate)
	setFn(&m.FxSync, gatherSync)
	setFn(&m.FxFileSize, gatherFileSize)
	setFn(&m.FxLock, gatherLock)
	setFn(&m.FxUnlock, gatherUnlock)
	setFn(&m.FxCheckReservedLock, gatherCheckReservedLock)
	setFn(&m.FxFileControl, gatherFileControl)
	setFn(&m.FxSectorSize, gatherSectorSize)
	setFn(&m.FxDeviceCharacteristics, gatherDeviceCharacteristics)
	setFn(&m.FxShmMap, gatherShmMap)
	setFn(&m.FxShmLock, gatherShmLock)
	setFn(&m.FxShmBarrier, gatherShmBarrier)
	setFn(&m.FxShmUnmap, gatherShmUnmap)
	setFn(&m.FxFetch, gatherFetch)
	setFn(&m.FxUnfetch, gatherUnfetch)

	v.registered = sqlite3.Xsqlite3_vfs_register(tls, uintptr(unsafe.Pointer(&v.vfs)), 0) == sqlite3.SQLITE_OK
}

// cptr turns an address in C memory into a pointer. It reads the address
// through memory instead of converting it, which vet's unsafeptr check
// would flag; the memory is not the Go heap's, so the collector has no
// stake in it.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// setFn stores f in a C function pointer slot as the transpiled SQLite
// stores its own functions: the func value itself.
func setFn[F any](slot *uintptr, f F) { *(*F)(unsafe.Pointer(slot)) = f }

// fn reads a C function pointer slot as a Go func of type F, as the
// transpiled SQLite calls through one.
func fn[F any](p uintptr) F { return *(*F)(unsafe.Pointer(&struct{ uintptr }{p})) }

// The C signatures of the VFS and io methods called here.
type (
	fnOpen       = func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32
	fnFile       = func(*libc.TLS, uintptr) int32
	fnFileInt    = func(*libc.TLS, uintptr, int32) int32
	fnFilePtr    = func(*libc.TLS, uintptr, uintptr) int32
	fnFileI64    = func(*libc.TLS, uintptr, int64) int32
	fnReadWrite  = func(*libc.TLS, uintptr, uintptr, int32, int64) int32
	fnFileCtl    = func(*libc.TLS, uintptr, int32, uintptr) int32
	fnShmMap     = func(*libc.TLS, uintptr, int32, int32, int32, uintptr) int32
	fnShmLock    = func(*libc.TLS, uintptr, int32, int32, int32) int32
	fnShmBarrier = func(*libc.TLS, uintptr)
	fnFetch      = func(*libc.TLS, uintptr, int64, int32, uintptr) int32
	fnUnfetch    = func(*libc.TLS, uintptr, int64, uintptr) int32
)

func gatherOf(pFile uintptr) *gather { return (*gather)(cptr(pFile + gatherVFS.fileOffset)) }

// gatherOpen opens every file with the unix VFS and gives the database and
// WAL files the gathering methods; journals and temporary files keep the
// unix ones.
func gatherOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	base := (*sqlite3.Tsqlite3_vfs)(cptr(gatherVFS.base))
	rc := fn[fnOpen](base.FxOpen)(tls, gatherVFS.base, zName, pFile, flags, pOutFlags)
	file := (*sqlite3.Tsqlite3_file)(cptr(pFile))
	if rc != sqlite3.SQLITE_OK || flags&(sqlite3.SQLITE_OPEN_MAIN_DB|sqlite3.SQLITE_OPEN_WAL) == 0 || file.FpMethods == 0 {
		return rc
	}
	*gatherOf(pFile) = gather{base: file.FpMethods}
	file.FpMethods = uintptr(unsafe.Pointer(&gatherVFS.methods))
	return rc
}

// pass writes what is gathered and returns the unix methods for the call
// being made, or SQLite's result code if the write failed. The bytes are
// dropped either way: SQLite sees the failure, from the call that flushed,
// and treats it as it treats a failed write of its own.
func pass(tls *libc.TLS, pFile uintptr) (*ioMethods, int32) {
	g := gatherOf(pFile)
	m := (*ioMethods)(cptr(g.base))
	if g.n == 0 {
		return m, sqlite3.SQLITE_OK
	}
	n := g.n
	g.n = 0
	return m, fn[fnReadWrite](m.FxWrite)(tls, pFile, g.buf, int32(n), g.off)
}

func gatherWrite(tls *libc.TLS, pFile, pBuf uintptr, amt int32, off int64) int32 {
	g := gatherOf(pFile)
	if g.n > 0 && off == g.off+g.n && g.n+int64(amt) <= gatherSize {
		libc.Xmemcpy(tls, g.buf+uintptr(g.n), pBuf, libc.Tsize_t(amt))
		g.n += int64(amt)
		return sqlite3.SQLITE_OK
	}
	m, rc := pass(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	if g.buf == 0 && amt < gatherSize {
		g.buf = sqlite3.Xsqlite3_malloc64(tls, gatherSize)
	}
	if g.buf == 0 || amt >= gatherSize {
		return fn[fnReadWrite](m.FxWrite)(tls, pFile, pBuf, amt, off)
	}
	libc.Xmemcpy(tls, g.buf, pBuf, libc.Tsize_t(amt))
	g.off, g.n = off, int64(amt)
	return sqlite3.SQLITE_OK
}

func gatherClose(tls *libc.TLS, pFile uintptr) int32 {
	m, rc := pass(tls, pFile)
	g := gatherOf(pFile)
	if g.buf != 0 {
		sqlite3.Xsqlite3_free(tls, g.buf)
		g.buf = 0
	}
	(*sqlite3.Tsqlite3_file)(cptr(pFile)).FpMethods = g.base
	if rc2 := fn[fnFile](m.FxClose)(tls, pFile); rc == sqlite3.SQLITE_OK {
		rc = rc2
	}
	return rc
}

// Every other method writes what is gathered first, then passes the call
// on. For most calls nothing is gathered; the check costs nothing.

type ioMethods = sqlite3.Tsqlite3_io_methods

// passOn flushes, then makes the call through the unix methods.
func passOn(tls *libc.TLS, pFile uintptr, call func(m *ioMethods) int32) int32 {
	m, rc := pass(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return call(m)
}

func gatherRead(tls *libc.TLS, pFile, pBuf uintptr, amt int32, off int64) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 { return fn[fnReadWrite](m.FxRead)(tls, pFile, pBuf, amt, off) })
}

func gatherTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 { return fn[fnFileI64](m.FxTruncate)(tls, pFile, size) })
}

func gatherSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 { return fn[fnFileInt](m.FxSync)(tls, pFile, flags) })
}

func gatherFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 { return fn[fnFilePtr](m.FxFileSize)(tls, pFile, pSize) })
}

func gatherLock(tls *libc.TLS, pFile uintptr, lock int32) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 { return fn[fnFileInt](m.FxLock)(tls, pFile, lock) })
}

func gatherUnlock(tls *libc.TLS, pFile uintptr, lock int32) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 { return fn[fnFileInt](m.FxUnlock)(tls, pFile, lock) })
}

func gatherCheckReservedLock(tls *libc.TLS, pFile, pResOut uintptr) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 { return fn[fnFilePtr](m.FxCheckReservedLock)(tls, pFile, pResOut) })
}

func gatherFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 { return fn[fnFileCtl](m.FxFileControl)(tls, pFile, op, pArg) })
}

// The sector size and device characteristics describe the file, not its
// contents: nothing to write first.

func gatherSectorSize(tls *libc.TLS, pFile uintptr) int32 {
	m := (*ioMethods)(cptr(gatherOf(pFile).base))
	return fn[fnFile](m.FxSectorSize)(tls, pFile)
}

func gatherDeviceCharacteristics(tls *libc.TLS, pFile uintptr) int32 {
	m := (*ioMethods)(cptr(gatherOf(pFile).base))
	return fn[fnFile](m.FxDeviceCharacteristics)(tls, pFile)
}

// The shared-memory and memory-map methods serve the database file;
// through the former SQLite publishes to other connections what it wrote.
// A WAL file calls none of them. Where the unix methods lack one (they do
// not on a database), SQLite gets what it would from a table without it.

func gatherShmMap(tls *libc.TLS, pFile uintptr, iPg, pgsz, extend int32, pp uintptr) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 {
		if m.FxShmMap == 0 {
			return sqlite3.SQLITE_IOERR
		}
		return fn[fnShmMap](m.FxShmMap)(tls, pFile, iPg, pgsz, extend, pp)
	})
}

func gatherShmLock(tls *libc.TLS, pFile uintptr, offset, n, flags int32) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 {
		if m.FxShmLock == 0 {
			return sqlite3.SQLITE_IOERR
		}
		return fn[fnShmLock](m.FxShmLock)(tls, pFile, offset, n, flags)
	})
}

// gatherShmBarrier cannot report a failed write, so it keeps the bytes
// gathered if their write fails: the next call on the file tries again and
// reports the failure.
func gatherShmBarrier(tls *libc.TLS, pFile uintptr) {
	g := gatherOf(pFile)
	m := (*ioMethods)(cptr(g.base))
	if g.n > 0 && fn[fnReadWrite](m.FxWrite)(tls, pFile, g.buf, int32(g.n), g.off) == sqlite3.SQLITE_OK {
		g.n = 0
	}
	if m.FxShmBarrier != 0 {
		fn[fnShmBarrier](m.FxShmBarrier)(tls, pFile)
	}
}

func gatherShmUnmap(tls *libc.TLS, pFile uintptr, deleteFlag int32) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 {
		if m.FxShmUnmap == 0 {
			return sqlite3.SQLITE_OK
		}
		return fn[fnFileInt](m.FxShmUnmap)(tls, pFile, deleteFlag)
	})
}

// gatherFetch maps nothing where the unix methods cannot; SQLite then
// reads.
func gatherFetch(tls *libc.TLS, pFile uintptr, off int64, amt int32, pp uintptr) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 {
		if m.FiVersion < 3 || m.FxFetch == 0 {
			*(*uintptr)(cptr(pp)) = 0
			return sqlite3.SQLITE_OK
		}
		return fn[fnFetch](m.FxFetch)(tls, pFile, off, amt, pp)
	})
}

func gatherUnfetch(tls *libc.TLS, pFile uintptr, off int64, p uintptr) int32 {
	return passOn(tls, pFile, func(m *ioMethods) int32 {
		if m.FiVersion < 3 || m.FxUnfetch == 0 {
			return sqlite3.SQLITE_OK
		}
		return fn[fnUnfetch](m.FxUnfetch)(tls, pFile, off, p)
	})
}
