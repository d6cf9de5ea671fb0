/* A hook written for zpoline's published ABI, unchanged: makes getppid return 4242 and
 * passes every other call on to the previous hook. */
#include <stdio.h>
#include <sys/syscall.h>

typedef long (*syscall_fn_t)(long, long, long, long, long, long, long);
static syscall_fn_t next_sys_call;

static long hook_function(long a1, long a2, long a3, long a4, long a5, long a6, long a7)
{
    if (a1 == SYS_getppid) return 4242;
    return next_sys_call(a1, a2, a3, a4, a5, a6, a7);
}

int __hook_init(long placeholder __attribute__((unused)), void *sys_call_hook_ptr)
{
    next_sys_call = *((syscall_fn_t *)sys_call_hook_ptr);
    *((syscall_fn_t *)sys_call_hook_ptr) = hook_function;
    return 0;
}
