/*
 * enforce-workload: a workload for the `sysfence run` tests. It makes system calls in ways a policy must
 * catch, and prints what the kernel answered; it installs no filter itself (sysfence run does).
 *
 *   enforce-workload syscall NR [ARG...]    syscall(NR, ARG...) through the x86_64 `syscall` instruction
 *   enforce-workload x32 NR                 syscall(NR | 0x40000000): the x32 ABI's numbering
 *   enforce-workload int80 NR [ARG...]      the i386 ABI from a 64-bit process: `int $0x80` with eax = NR
 *   enforce-workload threads NR             starts 4 threads; one makes syscall NR while the others and
 *                                           the main thread wait; prints "survived" if the process lives
 *   enforce-workload grandchild NR          fork, fork again; the grandchild makes syscall NR and prints
 *   enforce-workload stdio                  prints whether fds 0-2 are open, blocking and not close-on-exec
 *   enforce-workload spin N NR              N iterations of syscall(NR) (arguments 0); prints nothing
 *
 * Output for a call: one line "ret=<signed result> errno=<errno or 0>". A kill action ends the process
 * with SIGSYS before it prints. Exit status 2 means the helper itself was misused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define X32_SYSCALL_BIT 0x40000000L

static long parse_number(const char *text) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0') {
    fprintf(stderr, "enforce-workload: not a number: %s\n", text);
    exit(2);
  }
  return value;
}

static void parse_args(int argc, char **argv, int first, long args[6]) {
  for (int i = 0; i < 6; i++) args[i] = first + i < argc ? parse_number(argv[first + i]) : 0;
}

static void report(long ret, int err) {
  printf("ret=%ld errno=%d\n", ret, ret < 0 ? err : 0);
  fflush(stdout);
}

static void call_native(long nr, const long a[6]) {
  long ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  report(ret, errno);
}

/*
 * The ia32 entry: eax = number, ebx ecx edx esi edi ebp = arguments; the result comes back in eax.
 * The sixth argument is a register operand (not memory), so the push of rbp cannot shift it; int $0x80
 * from 64-bit code returns with r8-r15 zeroed, so all of them are clobbered.
 */
static void call_int80(long nr, const long a[6]) {
  long ret;
  __asm__ volatile("push %%rbp\n\tmov %7, %%rbp\n\tint $0x80\n\tpop %%rbp"
                   : "=a"(ret)
                   : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4]), "r"(a[5])
                   : "memory", "cc", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
  /* int $0x80 returns a 32-bit value in eax: sign-extend it. */
  int ret32 = (int)ret;
  report(ret32 < 0 && ret32 > -4096 ? -1 : ret32, ret32 < 0 && ret32 > -4096 ? -ret32 : 0);
}

static long threaded_nr;

static void *thread_main(void *arg) {
  if (arg != NULL) {
    usleep(50 * 1000);
    syscall(threaded_nr, 0, 0, 0, 0, 0, 0);
    return NULL;
  }
  sleep(3);
  return NULL;
}

static void run_threads(long nr) {
  pthread_t threads[4];
  threaded_nr = nr;
  for (int i = 0; i < 4; i++) {
    if (pthread_create(&threads[i], NULL, thread_main, i == 0 ? (void *)1 : NULL) != 0) exit(2);
  }
  /* Only the first thread makes the call; join it, then give a killed-thread-only outcome time to show. */
  pthread_join(threads[0], NULL);
  usleep(100 * 1000);
  printf("survived\n");
  fflush(stdout);
  _exit(0);
}

static int wait_for(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return 2;
  if (WIFSIGNALED(status)) {
    printf("child killed by signal %d\n", WTERMSIG(status));
    fflush(stdout);
    return 1;
  }
  return WEXITSTATUS(status);
}

static void run_grandchild(long nr) {
  const long none[6] = {0};
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) exit(2);
  if (child == 0) {
    pid_t grandchild = fork();
    if (grandchild < 0) _exit(2);
    if (grandchild == 0) {
      call_native(nr, none);
      _exit(0);
    }
    _exit(wait_for(grandchild));
  }
  exit(wait_for(child));
}

static void describe_stdio(void) {
  for (int fd = 0; fd <= 2; fd++) {
    int fl = fcntl(fd, F_GETFL);
    int fdfl = fcntl(fd, F_GETFD);
    if (fl < 0 || fdfl < 0) {
      printf("fd%d=closed\n", fd);
      continue;
    }
    printf("fd%d=%s,%s\n", fd, (fl & O_NONBLOCK) ? "nonblocking" : "blocking", (fdfl & FD_CLOEXEC) ? "cloexec" : "inherit");
  }
  fflush(stdout);
}

static void spin(long iterations, long nr) {
  for (long i = 0; i < iterations; i++) syscall(nr, 0, 0, 0, 0, 0, 0);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: enforce-workload syscall|x32|int80|threads|grandchild|stdio|spin ...\n");
    return 2;
  }
  const char *mode = argv[1];
  long args[6];
  if (strcmp(mode, "stdio") == 0) {
    describe_stdio();
    return 0;
  }
  if (argc < 3) {
    fprintf(stderr, "enforce-workload %s: missing syscall number\n", mode);
    return 2;
  }
  if (strcmp(mode, "spin") == 0) {
    if (argc < 4) return 2;
    spin(parse_number(argv[2]), parse_number(argv[3]));
    return 0;
  }
  long nr = parse_number(argv[2]);
  parse_args(argc, argv, 3, args);
  if (strcmp(mode, "syscall") == 0) call_native(nr, args);
  else if (strcmp(mode, "x32") == 0) call_native(nr | X32_SYSCALL_BIT, args);
  else if (strcmp(mode, "int80") == 0) call_int80(nr, args);
  else if (strcmp(mode, "threads") == 0) run_threads(nr);
  else if (strcmp(mode, "grandchild") == 0) run_grandchild(nr);
  else {
    fprintf(stderr, "enforce-workload: unknown mode %s\n", mode);
    return 2;
  }
  return 0;
}
