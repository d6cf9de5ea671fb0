// Makes each x86-64 system call whose number is an argument once, each refused by a
// seccomp filter with ENOSYS so that none is performed, then exit_group(0). Run under
// `strace -e trace=%CLASS`, the calls strace prints are the members of its class; under
// `strace -e raw=all`, it shows how many arguments strace prints for each (test/policy-parse,
// ts/scripts/gen-sysent.mjs). The arguments are 0x11, 0x22, ... so that raw output shows them.
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
  };
  struct sock_fprog prog = { sizeof filter / sizeof filter[0], filter };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 1;
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) return 1;
  for (int i = 1; i < argc; i++) {
    long nr = atol(argv[i]);
    if (nr == __NR_exit_group) continue;
    syscall(nr, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66);
  }
  syscall(__NR_exit_group, 0);
  return 0;
}
