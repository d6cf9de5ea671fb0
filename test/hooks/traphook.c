/* A pass-through hook (zpoline ABI) whose constructor installs a SIGTRAP handler of its
 * own: it must still be there after trapline has loaded the hook (trapline watches for a
 * crashing hook with temporary handlers for SIGTRAP and four others while it loads). */
#include <signal.h>
#include <string.h>
#include <unistd.h>

typedef long (*syscall_fn_t)(long, long, long, long, long, long, long);
static syscall_fn_t next_sys_call;

static void on_trap(int sig)
{
    (void)sig;
    static const char msg[] = "traphook: SIGTRAP handled by the hook\n";
    write(2, msg, sizeof msg - 1);
}

__attribute__((constructor)) static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_trap;
    sigaction(SIGTRAP, &sa, 0);
}

static long hook_function(long a1, long a2, long a3, long a4, long a5, long a6, long a7)
{
    return next_sys_call(a1, a2, a3, a4, a5, a6, a7);
}

int __hook_init(long placeholder __attribute__((unused)), void *sys_call_hook_ptr)
{
    next_sys_call = *((syscall_fn_t *)sys_call_hook_ptr);
    *((syscall_fn_t *)sys_call_hook_ptr) = hook_function;
    return 0;
}
