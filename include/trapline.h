/* trapline.h — hook ABI for trapline (native). See docs/hooks.md.
 *
 * A hook library is a shared object named by `trapline run --hook LIB` (TRAPLINE_HOOK).
 * It is loaded with dlmopen(LM_ID_NEWLM): it has its own libc, and its own system calls
 * are not intercepted (no recursion). Export:
 *
 *   int  trapline_init(const struct trapline_api *api);      optional; non-zero = refuse
 *   long trapline_hook(struct trapline_call *call);           required
 *
 * trapline_hook sees every intercepted call. Return its result (a value, or -errno). To
 * run the real call, call api->syscall(call) — possibly after changing call->nr or
 * call->args — and return (or alter) what it returns. Not calling it suppresses the call.
 *
 * Calls that need the program's own frame (clone, clone3, fork, vfork, exit, rt_sigreturn)
 * are performed by trapline after the hook returns if the hook asked for them through
 * api->syscall; for those api->syscall returns 0 and the hook's return value is ignored.
 * Every other call trapline handles itself (mmap, munmap, mprotect, exec, signal set-up,
 * prctl, wait4, ...) is performed at once by api->syscall, with trapline's bookkeeping,
 * and its real result is returned.
 *
 * call->abi says which system call table nr belongs to. A 64-bit program can make 32-bit
 * calls with `int $0x80`: those arrive with abi == TRAPLINE_ABI_I386, an i386 number
 * (1 = exit, 20 = getpid, ...) and the i386 argument registers (ebx, ecx, edx, esi, edi,
 * ebp, as 32-bit values). api->syscall performs a call in the table its abi names.
 * abi took the place of the field `reserved`, which was always 0: the layout, the size
 * and TRAPLINE_ABI_VERSION are unchanged, so hooks built before it load and run as they
 * did, but they see i386 calls without knowing it (rebuild them to check abi). A hook
 * that fills a trapline_call of its own must set abi (0 for an x86-64 call).
 *
 * Libraries written for zpoline's ABI (`int __hook_init(long, void *hook_ptr)`) load
 * unchanged: their hook is `long fn(long nr, long a1, ..., long a6)` and chains to the
 * function found at *hook_ptr. That ABI has no way to mark a 32-bit call, so zpoline-ABI
 * hooks never see `int $0x80` calls: trapline performs them without calling the hook.
 */
#ifndef TRAPLINE_H
#define TRAPLINE_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#define TRAPLINE_ABI_VERSION 1

enum trapline_via {
    TRAPLINE_VIA_TRAP = 0, /* first execution of a site (SIGSYS), or a site left trapping */
    TRAPLINE_VIA_FAST = 1, /* a rewritten site (callq *%rax) */
};

enum trapline_abi {
    TRAPLINE_ABI_X86_64 = 0, /* syscall: x86-64 numbers, args rdi rsi rdx r10 r8 r9 */
    TRAPLINE_ABI_I386 = 1, /* int $0x80: i386 numbers, args ebx ecx edx esi edi ebp (zero-extended) */
};

struct trapline_call {
    long nr; /* system call number (rax) */
    long args[6]; /* rdi, rsi, rdx, r10, r8, r9 (i386: ebx, ecx, edx, esi, edi, ebp) */
    uint64_t site; /* address of the syscall (or int $0x80) instruction */
    int via; /* enum trapline_via (an int $0x80 call always arrives by trap) */
    int abi; /* enum trapline_abi; `reserved`, always 0, in ABI version 1 */
};

struct trapline_api {
    int version; /* TRAPLINE_ABI_VERSION */
    long (*syscall)(struct trapline_call *call); /* perform the (possibly changed) call */
    /* The environment the program started with, with trapline's settings (TRAPLINE_*)
     * and libtrapline.so first in LD_PRELOAD. The hook's own environment (its getenv,
     * system(), posix_spawn) lacks them, so the programs a hook starts are not
     * interposed; pass this as envp to have one that is (from its preloaded constructor:
     * a hook's own exec does not pass through trapline). */
    char *const *interposed_env;
};

int trapline_init(const struct trapline_api *api);
long trapline_hook(struct trapline_call *call);

/* Optional, for either ABI: `const unsigned trapline_hook_flags = TRAPLINE_HOOK_NO_VECTOR;`
 * declares that the hook, and everything it calls while handling a call, never changes
 * x87, SSE, AVX, AVX-512 or AMX state, MXCSR or PKRU (build it with -mgeneral-regs-only
 * and call no libc function that may use vector registers: memcpy, strlen, printf, ...).
 * trapline then does not save the program's vector state around it (docs/hooks.md). */
#define TRAPLINE_HOOK_NO_VECTOR 1u
extern const unsigned trapline_hook_flags;

#ifdef __cplusplus
}
#endif
#endif
