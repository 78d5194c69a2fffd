package sqlite

import (
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The writer connection opens the database through walVFSName: SQLite's
// unix VFS, except that writes to the WAL file are gathered in memory and
// reach the file as one write when SQLite next syncs, reads, sizes,
// truncates or closes it, or writes anywhere but right after them.
//
// SQLite writes each WAL frame as two writes (its 24-byte header, then the
// page), so a commit of n pages made 2n write system calls, each paying
// the kernel's per-call price on a frame that straddles page-cache pages;
// that was most of a small commit's CPU after the fsync. Gathered, the
// commit is one write.
//
// What anyone can observe is unchanged. The file receives the same bytes
// in the same order relative to every sync, so what survives a crash or a
// power loss is what SQLite expects. Other connections and processes read
// frames only once a commit has published them in the WAL index, which
// SQLite does after syncing the WAL at every commit under
// synchronous=FULL (checkWriter refuses to open the store without it),
// and the sync writes the gathered frames first. The writer itself never
// reads what it has not written: a read writes the gathered bytes first.
const walVFSName = "iamra-wal-gather"

// walGatherSize bounds the bytes gathered; a commit larger than this (a
// batch of big documents) takes a write per walGatherSize, still far
// fewer than two a page. The unix VFS writes at most 128 KiB - 1 bytes a
// call (it masks the length with 0x1ffff), so it must stay below that.
const walGatherSize = 120 << 10

// walGather is kept in the sqlite3_file SQLite allocates for a WAL file,
// after the unix VFS's own part (see walVFS.fileOffset). It lives in C
// memory, so it holds no Go pointers.
type walGather struct {
	base uintptr // the unix VFS's io methods for this file
	buf  uintptr // walGatherSize bytes from sqlite3_malloc, or 0 until needed
	n    int64   // bytes gathered in buf
	off  int64   // file offset of buf's first byte
}

// walVFS is the registered VFS and what its methods need. registerWALVFS
// sets it, in init, before SQLite can call into it; after that it is only
// read. SQLite keeps pointers to vfs, name and methods, which is why they
// are package variables (they never move) rather than allocations.
var walVFS struct {
	vfs        sqlite3.Tsqlite3_vfs
	name       [len(walVFSName) + 1]byte
	methods    sqlite3.Tsqlite3_io_methods
	base       uintptr // the unix VFS
	fileOffset uintptr // where walGather starts in a sqlite3_file
	registered bool
}

func init() { registerWALVFS() }

// registerWALVFS registers walVFSName as a copy of the default VFS whose
// xOpen gives WAL files the gathering io methods. Where the default VFS
// is not SQLite's unix VFS (Windows), whose behaviour the methods were
// checked against, it registers nothing and the writer uses the default.
func registerWALVFS() {
	tls := libc.NewTLS()
	defer tls.Close()
	base := sqlite3.Xsqlite3_vfs_find(tls, 0)
	if base == 0 {
		return
	}
	v := &walVFS
	v.vfs = *(*sqlite3.Tsqlite3_vfs)(cptr(base))
	if libc.GoString(v.vfs.FzName) != "unix" {
		return
	}
	v.base = base
	v.fileOffset = (uintptr(v.vfs.FszOsFile) + 7) &^ 7
	v.vfs.FszOsFile = int32(v.fileOffset + unsafe.Sizeof(walGather{}))
	v.vfs.FpNext = 0
	copy(v.name[:], walVFSName)
	v.vfs.FzName = uintptr(unsafe.Pointer(&v.name[0]))
	setFn(&v.vfs.FxOpen, walOpen)

	m := &v.methods
	m.FiVersion = 3
	setFn(&m.FxClose, walClose)
	setFn(&m.FxRead, walRead)
	setFn(&m.FxWrite, walWrite)
	setFn(&m.FxTruncate, walTruncate)
	setFn(&m.FxSync, walSync)
	setFn(&m.FxFileSize, walFileSize)
	setFn(&m.FxLock, walLock)
	setFn(&m.FxUnlock, walUnlock)
	setFn(&m.FxCheckReservedLock, walCheckReservedLock)
	setFn(&m.FxFileControl, walFileControl)
	setFn(&m.FxSectorSize, walSectorSize)
	setFn(&m.FxDeviceCharacteristics, walDeviceCharacteristics)
	setFn(&m.FxShmMap, walShmMap)
	setFn(&m.FxShmLock, walShmLock)
	setFn(&m.FxShmBarrier, walShmBarrier)
	setFn(&m.FxShmUnmap, walShmUnmap)
	setFn(&m.FxFetch, walFetch)
	setFn(&m.FxUnfetch, walUnfetch)

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

func gatherOf(pFile uintptr) *walGather { return (*walGather)(cptr(pFile + walVFS.fileOffset)) }

func (g *walGather) methods() *sqlite3.Tsqlite3_io_methods {
	return (*sqlite3.Tsqlite3_io_methods)(cptr(g.base))
}

// walOpen opens every file with the unix VFS and gives WAL files the
// gathering methods; the database and journals keep the unix ones.
func walOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	base := (*sqlite3.Tsqlite3_vfs)(cptr(walVFS.base))
	rc := fn[fnOpen](base.FxOpen)(tls, walVFS.base, zName, pFile, flags, pOutFlags)
	file := (*sqlite3.Tsqlite3_file)(cptr(pFile))
	if rc != sqlite3.SQLITE_OK || flags&sqlite3.SQLITE_OPEN_WAL == 0 || file.FpMethods == 0 {
		return rc
	}
	*gatherOf(pFile) = walGather{base: file.FpMethods}
	file.FpMethods = uintptr(unsafe.Pointer(&walVFS.methods))
	return rc
}

// flush writes what is gathered. The bytes are dropped even if the write
// fails: SQLite sees the error (from the call that flushed) and rolls the
// transaction back, as it does when a write of its own fails.
func (g *walGather) flush(tls *libc.TLS, pFile uintptr) int32 {
	if g.n == 0 {
		return sqlite3.SQLITE_OK
	}
	n := g.n
	g.n = 0
	return fn[fnReadWrite](g.methods().FxWrite)(tls, pFile, g.buf, int32(n), g.off)
}

func walWrite(tls *libc.TLS, pFile, pBuf uintptr, amt int32, off int64) int32 {
	g := gatherOf(pFile)
	if g.n > 0 && off == g.off+g.n && g.n+int64(amt) <= walGatherSize {
		libc.Xmemcpy(tls, g.buf+uintptr(g.n), pBuf, libc.Tsize_t(amt))
		g.n += int64(amt)
		return sqlite3.SQLITE_OK
	}
	if rc := g.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	if g.buf == 0 && amt < walGatherSize {
		g.buf = sqlite3.Xsqlite3_malloc64(tls, walGatherSize)
	}
	if g.buf == 0 || amt >= walGatherSize {
		return fn[fnReadWrite](g.methods().FxWrite)(tls, pFile, pBuf, amt, off)
	}
	libc.Xmemcpy(tls, g.buf, pBuf, libc.Tsize_t(amt))
	g.off, g.n = off, int64(amt)
	return sqlite3.SQLITE_OK
}

func walClose(tls *libc.TLS, pFile uintptr) int32 {
	g := gatherOf(pFile)
	rc := g.flush(tls, pFile)
	if g.buf != 0 {
		sqlite3.Xsqlite3_free(tls, g.buf)
		g.buf = 0
	}
	base := g.methods()
	(*sqlite3.Tsqlite3_file)(cptr(pFile)).FpMethods = g.base
	if rc2 := fn[fnFile](base.FxClose)(tls, pFile); rc == sqlite3.SQLITE_OK {
		rc = rc2
	}
	return rc
}

func walRead(tls *libc.TLS, pFile, pBuf uintptr, amt int32, off int64) int32 {
	g := gatherOf(pFile)
	if rc := g.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return fn[fnReadWrite](g.methods().FxRead)(tls, pFile, pBuf, amt, off)
}

func walTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	g := gatherOf(pFile)
	if rc := g.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return fn[fnFileI64](g.methods().FxTruncate)(tls, pFile, size)
}

func walSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	g := gatherOf(pFile)
	if rc := g.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return fn[fnFileInt](g.methods().FxSync)(tls, pFile, flags)
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	g := gatherOf(pFile)
	if rc := g.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return fn[fnFilePtr](g.methods().FxFileSize)(tls, pFile, pSize)
}

// walFileControl flushes first because some controls act on the file's
// contents or size (SQLITE_FCNTL_SIZE_HINT, SQLITE_FCNTL_SYNC); for the
// others an empty flush costs nothing.
func walFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	g := gatherOf(pFile)
	if rc := g.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return fn[fnFileCtl](g.methods().FxFileControl)(tls, pFile, op, pArg)
}

func walLock(tls *libc.TLS, pFile uintptr, lock int32) int32 {
	return fn[fnFileInt](gatherOf(pFile).methods().FxLock)(tls, pFile, lock)
}

func walUnlock(tls *libc.TLS, pFile uintptr, lock int32) int32 {
	return fn[fnFileInt](gatherOf(pFile).methods().FxUnlock)(tls, pFile, lock)
}

func walCheckReservedLock(tls *libc.TLS, pFile, pResOut uintptr) int32 {
	return fn[fnFilePtr](gatherOf(pFile).methods().FxCheckReservedLock)(tls, pFile, pResOut)
}

func walSectorSize(tls *libc.TLS, pFile uintptr) int32 {
	return fn[fnFile](gatherOf(pFile).methods().FxSectorSize)(tls, pFile)
}

func walDeviceCharacteristics(tls *libc.TLS, pFile uintptr) int32 {
	return fn[fnFile](gatherOf(pFile).methods().FxDeviceCharacteristics)(tls, pFile)
}

// The shared-memory and memory-mapping methods serve the database file;
// SQLite does not call them on a WAL file, but a version 3 table has them,
// so they pass through to the unix methods that have them.

func walShmMap(tls *libc.TLS, pFile uintptr, iPg, pgsz, extend int32, pp uintptr) int32 {
	m := gatherOf(pFile).methods()
	if m.FxShmMap == 0 {
		return sqlite3.SQLITE_IOERR
	}
	return fn[fnShmMap](m.FxShmMap)(tls, pFile, iPg, pgsz, extend, pp)
}

func walShmLock(tls *libc.TLS, pFile uintptr, offset, n, flags int32) int32 {
	m := gatherOf(pFile).methods()
	if m.FxShmLock == 0 {
		return sqlite3.SQLITE_IOERR
	}
	return fn[fnShmLock](m.FxShmLock)(tls, pFile, offset, n, flags)
}

func walShmBarrier(tls *libc.TLS, pFile uintptr) {
	if m := gatherOf(pFile).methods(); m.FxShmBarrier != 0 {
		fn[fnShmBarrier](m.FxShmBarrier)(tls, pFile)
	}
}

func walShmUnmap(tls *libc.TLS, pFile uintptr, deleteFlag int32) int32 {
	m := gatherOf(pFile).methods()
	if m.FxShmUnmap == 0 {
		return sqlite3.SQLITE_OK
	}
	return fn[fnFileInt](m.FxShmUnmap)(tls, pFile, deleteFlag)
}

// walFetch maps nothing when the unix methods cannot: SQLite then reads.
func walFetch(tls *libc.TLS, pFile uintptr, off int64, amt int32, pp uintptr) int32 {
	g := gatherOf(pFile)
	m := g.methods()
	if m.FiVersion < 3 || m.FxFetch == 0 {
		*(*uintptr)(cptr(pp)) = 0
		return sqlite3.SQLITE_OK
	}
	if rc := g.flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	return fn[fnFetch](m.FxFetch)(tls, pFile, off, amt, pp)
}

func walUnfetch(tls *libc.TLS, pFile uintptr, off int64, p uintptr) int32 {
	m := gatherOf(pFile).methods()
	if m.FiVersion < 3 || m.FxUnfetch == 0 {
		return sqlite3.SQLITE_OK
	}
	return fn[fnUnfetch](m.FxUnfetch)(tls, pFile, off, p)
}
