/* A zpoline-ABI hook that changes the program's mappings with its own call, which
 * trapline cannot see (a hook's calls run with SUD allowing them): getppid(MAGIC, addr,
 * fd) maps memfd fd MAP_SHARED r-x over addr and returns MAGIC (test/c/vmmap.c). Every
 * other call is passed on. */
#include <sys/mman.h>
#include <sys/syscall.h>

typedef long (*syscall_fn_t)(long, long, long, long, long, long, long);
static syscall_fn_t next_sys_call;
#define MAGIC 0x766d6d6170l

static long hook_function(long a1, long a2, long a3, long a4, long a5, long a6, long a7)
{
    if (a1 == SYS_getppid && a2 == MAGIC) {
        void *p = mmap((void *)a3, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, (int)a4, 0);
        return p == (void *)a3 ? MAGIC : -1;
    }
    return next_sys_call(a1, a2, a3, a4, a5, a6, a7);
}

int __hook_init(long placeholder __attribute__((unused)), void *sys_call_hook_ptr)
{
    next_sys_call = *((syscall_fn_t *)sys_call_hook_ptr);
    *((syscall_fn_t *)sys_call_hook_ptr) = hook_function;
    return 0;
}
