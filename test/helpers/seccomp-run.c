/*
 * seccomp-run: installs a raw seccomp filter on itself and makes one system call, so tests can check a
 * compiled filter's decision on the real kernel (and compare it with libseccomp's and the emulator's).
 *
 *   seccomp-run [--abi x86_64|i386] FILTER_FILE [NR [ARG ...]]
 *
 * FILTER_FILE holds the raw struct sock_filter array (8 bytes per instruction). NR and up to six ARGs are
 * unsigned integers (decimal or 0x...); the ARG "buf" passes a pointer to a 4 KiB scratch buffer (below
 * 4 GiB, so the i386 ABI can use it too). --abi i386 enters the kernel with `int $0x80` (the ia32 ABI,
 * AUDIT_ARCH_I386, needs CONFIG_IA32_EMULATION) instead of `syscall`, with each ARG's full 64 bits in
 * the register (see syscall_i386).
 *
 * Output on stdout, one line: "ret=<signed return value> errno=<errno or 0>"; without NR the filter is only
 * installed and nothing is printed. If the kernel refuses the filter: "load_errno=<errno>". A kill or trap
 * action ends the process with SIGSYS, which the parent sees as the termination signal. Exit status 2
 * (with a message on stderr) means the helper itself failed (bad usage, unreadable filter, prctl refused).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* sock_fprog.len is 16 bits; longer programs than BPF_MAXINSNS (4096) go to the kernel, which judges them. */
#define MAX_INSNS 65535
#define SCRATCH_SIZE 4096

static void fail(const char *what) {
  fprintf(stderr, "seccomp-run: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void usage(void) {
  fprintf(stderr, "usage: seccomp-run [--abi x86_64|i386] FILTER_FILE [NR [ARG ...]]\n");
  exit(2);
}

/* Reads the raw filter; the kernel validates it when it is installed. */
static unsigned short read_filter(const char *path, struct sock_filter *insns) {
  FILE *file = fopen(path, "rb");
  if (file == NULL) fail(path);
  size_t count = fread(insns, sizeof(struct sock_filter), MAX_INSNS + 1, file);
  if (ferror(file)) fail(path);
  fclose(file);
  if (count == 0 || count > MAX_INSNS) {
    fprintf(stderr, "seccomp-run: %s: %zu instructions (must be 1..%d)\n", path, count, MAX_INSNS);
    exit(2);
  }
  return (unsigned short)count;
}

static uint64_t parse_value(const char *text, void *scratch) {
  if (strcmp(text, "buf") == 0) return (uint64_t)(uintptr_t)scratch;
  char *end = NULL;
  errno = 0;
  uint64_t value = strtoull(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0') {
    fprintf(stderr, "seccomp-run: not an unsigned integer: %s\n", text);
    exit(2);
  }
  return value;
}

/* A global, so the asm reads it RIP-relative: an rsp-relative operand would move with the push. */
static uint64_t i386_arg5;

/*
 * The ia32 entry: eax = nr, ebx, ecx, edx, esi, edi, ebp = args; returns eax (negative errno on error).
 * The full 64-bit values go into rbx..rbp on purpose: a 64-bit process can enter the ia32 ABI with
 * non-zero upper register halves, seccomp_data then carries them (observed on Linux 6.18) while the
 * compat syscall itself uses only the low 32 bits — a filter that checks upper words on i386 can be
 * sidestepped that way, and the tests exercise it. `int $0x80` from 64-bit code returns with r8-r15
 * zeroed, so they are all declared clobbered.
 */
static long syscall_i386(uint32_t nr, const uint64_t *args) {
  uint64_t rax = nr;
  i386_arg5 = args[5];
  __asm__ volatile(
      "push %%rbp\n\t"
      "mov %[arg5], %%rbp\n\t"
      "int $0x80\n\t"
      "pop %%rbp"
      : "+a"(rax)
      : "b"(args[0]), "c"(args[1]), "d"(args[2]), "S"(args[3]), "D"(args[4]), [arg5] "m"(i386_arg5)
      : "memory", "cc", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
  return (long)(int32_t)rax;
}

int main(int argc, char **argv) {
  int at = 1;
  int use_i386 = 0;
  if (argc > 2 && strcmp(argv[1], "--abi") == 0) {
    if (strcmp(argv[2], "i386") == 0) use_i386 = 1;
    else if (strcmp(argv[2], "x86_64") != 0) usage();
    at = 3;
  }
  if (argc - at < 1 || argc - at > 8) usage();
  int load_only = argc - at == 1;

  static struct sock_filter insns[MAX_INSNS + 1];
  struct sock_fprog prog = {.len = read_filter(argv[at], insns), .filter = insns};
  void *scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (scratch == MAP_FAILED) fail("mmap");
  uint64_t nr = load_only ? 0 : parse_value(argv[at + 1], scratch);
  uint64_t args[6] = {0, 0, 0, 0, 0, 0};
  for (int i = at + 2; i < argc; i++) args[i - at - 2] = parse_value(argv[i], scratch);
  /* Flush now: after the filter is installed even write(2) may be denied. */
  fflush(stdout);

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("prctl(PR_SET_NO_NEW_PRIVS)");
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    /* The kernel's own verdict on the program (EINVAL for an invalid one): a result, not a failure. */
    printf("load_errno=%d\n", errno);
    return 0;
  }
  if (load_only) return 0;

  long ret;
  int err = 0;
  if (use_i386) {
    ret = syscall_i386((uint32_t)nr, args);
    if (ret < 0 && ret >= -4095) {
      err = (int)-ret;
      ret = -1;
    }
  } else {
    errno = 0;
    ret = syscall((long)nr, args[0], args[1], args[2], args[3], args[4], args[5]);
    err = ret == -1 ? errno : 0;
  }
  /* The result line is written with the filter in force: a filter that denies write(2) to the test
     would hide it, so the tests only run filters that allow write, or expect a signal. */
  char line[96];
  int length = snprintf(line, sizeof line, "ret=%ld errno=%d\n", ret, err);
  if (write(STDOUT_FILENO, line, (size_t)length) != length) return 3;
  return 0;
}
