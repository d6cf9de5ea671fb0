/* A zpoline-ABI hook that answers x86-64 writev (20) with 777777 and counts the calls it
 * sees with numbers 20 and 252. i386 getpid is 20 and i386 exit_group 252: an int $0x80
 * call passed to this hook as a 64-bit call would be answered or counted. Reports at
 * exit_group (231) on stderr. */
#include <stdio.h>
#include <sys/syscall.h>

typedef long (*syscall_fn_t)(long, long, long, long, long, long, long);
static syscall_fn_t next_sys_call;
static long seen20, seen252, total;

static long hook_function(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    total++;
    if (nr == 252) seen252++;
    if (nr == SYS_writev) { seen20++; return 777777; }
    if (nr == SYS_exit_group) fprintf(stderr, "zpwritev: total=%ld nr20=%ld nr252=%ld\n", total, seen20, seen252);
    return next_sys_call(nr, a1, a2, a3, a4, a5, a6);
}

int __hook_init(long placeholder __attribute__((unused)), void *sys_call_hook_ptr)
{
    next_sys_call = *((syscall_fn_t *)sys_call_hook_ptr);
    *((syscall_fn_t *)sys_call_hook_ptr) = hook_function;
    return 0;
}
