/* membarrier registrations trapline cannot see being made, and a filter that answers
 * first (issue 15's hidden SYNC_CORE registration). Phases (argv[1]):
 *   pre      the executable's preinit function (as a library constructor initialised
 *            before trapline's, liburcu's) registers PRIVATE_EXPEDITED_SYNC_CORE; after a
 *            thread, the program's SYNC_CORE command must succeed and its registrations
 *            show
 *   seccomp  after a thread, a filter answers membarrier with ENOSYS: every command too
 * Prints one line; test/membarrier.test.ts compares it with the uninterposed run's. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static long mb(int cmd)
{
    long r = syscall(SYS_membarrier, cmd, 0, 0);
    return r < 0 ? -errno : r;
}

static void preinit(int argc, char **argv, char **envp)
{
    (void)envp;
    if (argc > 1 && !strcmp(argv[1], "pre")) syscall(SYS_membarrier, 64 /* REGISTER_PRIVATE_EXPEDITED_SYNC_CORE */, 0, 0);
}
__attribute__((section(".preinit_array"), used)) static void (*const preinit_fn)(int, char **, char **) = preinit;

static void *thread(void *a) { return a; }

int main(int argc, char **argv)
{
    pthread_t t;
    if (pthread_create(&t, 0, thread, 0) || pthread_join(t, 0)) return 1;
    if (argc > 1 && !strcmp(argv[1], "seccomp")) {
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_membarrier, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog p = {4, f};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p)) return 1;
    }
    /* PRIVATE_EXPEDITED_SYNC_CORE, GET_REGISTRATIONS, PRIVATE_EXPEDITED */
    printf("sync_core=%ld registrations=%ld private_expedited=%ld\n", mb(32), mb(512), mb(8));
    return 0;
}
