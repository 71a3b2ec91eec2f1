import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PERF, type PerfOptions } from '../shared/model/plan.ts';
import { bundleDigest, compileStatic, ociSpec, type PreparedBundle } from './bundle.ts';

// The perf plans' workload: one static C program, the same bytes in every runtime, that
// runs three fixed kernels and times each inside the container with CLOCK_MONOTONIC:
//   cpu       an integer loop (xorshift, each step depending on the last, behind a compiler
//             barrier so it can be neither folded nor vectorised away)
//   syscalls  getpid through syscall(2), which no libc caches: every call reaches the
//             runtime's syscall path (the host kernel, gVisor's Sentry, a guest kernel)
//   io        IO_BYTES in 64 KiB writes to a file in the container's root filesystem, fsync,
//             close, unlink
// It prints one line, PERF_REPORT_PREFIX followed by KERNEL_ns=N fields (perf-report.ts
// reads it), and only when every kernel succeeded; otherwise it names the failure on
// stderr and exits non-zero. Parameters come in argv, so the bundle (and image) records them.

export const PERF_REPORT_PREFIX = 'runtime-lab-perf';

/** Where the io kernel writes, in the container's root filesystem (the bundle's rootfs is writable for perf). */
export const PERF_IO_FILE = '/runtime-lab-perf.io';

export const PERF_C = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536
#define IO_FILE "${PERF_IO_FILE}"

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int count(const char *text, uint64_t *value) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || *text < '0' || *text > '9' || *end || v == 0) return -1;
  *value = v;
  return 0;
}

static uint64_t cpu(uint64_t loops) {
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (uint64_t i = 0; i < loops; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    __asm__ volatile("" : "+r"(x));
  }
  return x;
}

static void syscalls(uint64_t calls) {
  for (uint64_t i = 0; i < calls; i++) syscall(SYS_getpid);
}

static int fail(const char *what, int fd) {
  fprintf(stderr, "io: %s %s: %s\\n", what, IO_FILE, strerror(errno));
  if (fd >= 0) close(fd);
  unlink(IO_FILE);
  return -1;
}

static int io(uint64_t bytes) {
  static char chunk[CHUNK];
  for (size_t i = 0; i < CHUNK; i++) chunk[i] = (char)(i * 131 + 7);
  int fd = open(IO_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return fail("open", -1);
  for (uint64_t left = bytes; left > 0;) {
    ssize_t n = write(fd, chunk, left < CHUNK ? (size_t)left : CHUNK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write", fd);
    if (n == 0) { errno = ENOSPC; return fail("write", fd); }
    left -= (uint64_t)n;
  }
  if (fsync(fd) != 0) return fail("fsync", fd);
  if (close(fd) != 0) return fail("close", -1);
  if (unlink(IO_FILE) != 0) return fail("unlink", -1);
  return 0;
}

int main(int argc, char **argv) {
  uint64_t loops, calls, bytes;
  if (argc != 4 || count(argv[1], &loops) || count(argv[2], &calls) || count(argv[3], &bytes)) {
    fprintf(stderr, "usage: perf CPU_LOOPS SYSCALLS IO_BYTES (whole numbers >= 1)\\n");
    return 2;
  }
  uint64_t t0 = now_ns();
  uint64_t check = cpu(loops);
  uint64_t t1 = now_ns();
  syscalls(calls);
  uint64_t t2 = now_ns();
  if (io(bytes) != 0) return 1;
  uint64_t t3 = now_ns();
  /* The checksum is printed so the cpu loop's result is used. */
  printf("${PERF_REPORT_PREFIX} cpu_ns=%" PRIu64 " syscalls_ns=%" PRIu64 " io_ns=%" PRIu64 " cpu_check=%016" PRIx64 "\\n", t1 - t0, t2 - t1, t3 - t2, check);
  return 0;
}
`;

/** The plan's perf parameters with the documented defaults filled in. */
export function resolvePerfOptions(perf: PerfOptions | undefined): Required<PerfOptions> {
  return {
    cpuLoops: perf?.cpuLoops ?? DEFAULT_PERF.cpuLoops,
    syscalls: perf?.syscalls ?? DEFAULT_PERF.syscalls,
    ioBytes: perf?.ioBytes ?? DEFAULT_PERF.ioBytes,
  };
}

/**
 * Builds the perf bundle in `bundleDir` (replacing whatever was there): perf.c compiled with
 * `gcc -static` on the host, the hello bundle's spec with a writable root and the kernels'
 * parameters as arguments. There is no busybox fallback: busybox cannot run these kernels.
 */
export function preparePerfBundle(bundleDir: string, perf: PerfOptions | undefined, gcc = 'gcc'): PreparedBundle {
  const root = path.resolve(bundleDir);
  const rootfs = path.join(root, 'rootfs');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });

  const binary = path.join(rootfs, 'perf');
  const compiled = compileStatic(gcc, PERF_C, path.join(root, 'perf.c'), binary);
  if (compiled.failure !== null) {
    throw new Error(
      `cannot build the perf workload: ${compiled.failure}. ` +
        'Perf plans need a C compiler and static libc on the host: install the Debian packages gcc and libc6-dev (busybox cannot run the kernels)',
    );
  }

  const used = resolvePerfOptions(perf);
  const args = ['/perf', String(used.cpuLoops), String(used.syscalls), String(used.ioBytes)];
  writeFileSync(path.join(root, 'config.json'), JSON.stringify(ociSpec(rootfs, args, { writableRoot: true }), null, 2));
  // As for hello: the digest names the workload (spec as if root.path were "rootfs", and the binary), not its folder.
  const digest = bundleDigest(JSON.stringify(ociSpec('rootfs', args, { writableRoot: true }), null, 2), rootfs);
  const builtWith = `${gcc} -static -O2 perf.c; ${args.join(' ')} (cpu loops, getpid calls, io bytes)`;
  return { info: { workload: 'perf', builtWith, digest, path: root }, warnings: [] };
}
