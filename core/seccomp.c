/* The program's own seccomp: trapline must make no system call the program did not make
 * where that is avoidable, because the program's seccomp filter (or strict mode) applies to
 * our calls too. We see the program install it (seccomp() and prctl(PR_SET_SECCOMP) reach
 * the dispatch), keep a copy of every filter, and before each call of our own that is
 * optional (rewriting a site, reading /proc/self/maps, unmapping an exiting thread's
 * state, reading memory through process_vm_readv) ask whether the filters would allow it:
 * a classic-BPF interpreter runs them on the call as the kernel would.
 * See docs/design.md, "The program's own seccomp". */
#include "core/core.h"

int tl_sigsys_noreturn; /* set by sud/signals.c (tl_up.sigsys_noreturn) */
#include <errno.h>
#include <sys/mman.h>
#include <fcntl.h>

#define MAX_FILTERS 32

struct bpf_insn_ {
    uint16_t code;
    uint8_t jt, jf;
    uint32_t k;
};

int tl_seccomp_mode; /* TL_SECCOMP_MODE_* (process-wide: conservative) */
static struct {
    struct bpf_insn_ *prog;
    uint32_t len;
} filters[MAX_FILTERS];
static int n_filters;
static int deny_all; /* more filters than filters[] holds: assume the worst */
static int lock;

struct sc_data {
    int nr;
    uint32_t arch;
    uint64_t ip;
    uint64_t args[6];
};

/* Runs one filter on d: the action (SECCOMP_RET_*), or KILL for a malformed program. */
static uint32_t run_filter(const struct bpf_insn_ *p, uint32_t len, const struct sc_data *d)
{
    uint32_t A = 0, X = 0, M[16];
    memset(M, 0, sizeof M);
    for (uint32_t pc = 0; pc < len; pc++) {
        const struct bpf_insn_ *i = &p[pc];
        uint32_t k = i->k;
        switch (i->code) {
        case 0x20: /* ld [k] */
            if (k > sizeof *d - 4 || (k & 3)) return 0;
            memcpy(&A, (const uint8_t *)d + k, 4);
            break;
        case 0x80: A = sizeof *d; break; /* ld #len */
        case 0x81: X = sizeof *d; break; /* ldx #len */
        case 0x00: A = k; break; /* ld #k */
        case 0x01: X = k; break; /* ldx #k */
        case 0x60:
            if (k >= 16) return 0;
            A = M[k];
            break;
        case 0x61:
            if (k >= 16) return 0;
            X = M[k];
            break;
        case 0x02:
            if (k >= 16) return 0;
            M[k] = A;
            break;
        case 0x03:
            if (k >= 16) return 0;
            M[k] = X;
            break;
        case 0x04: A += k; break;
        case 0x0c: A += X; break;
        case 0x14: A -= k; break;
        case 0x1c: A -= X; break;
        case 0x24: A *= k; break;
        case 0x2c: A *= X; break;
        case 0x34:
            if (!k) return 0;
            A /= k;
            break;
        case 0x3c:
            if (!X) return 0;
            A /= X;
            break;
        case 0x94:
            if (!k) return 0;
            A %= k;
            break;
        case 0x9c:
            if (!X) return 0;
            A %= X;
            break;
        case 0x54: A &= k; break;
        case 0x5c: A &= X; break;
        case 0x44: A |= k; break;
        case 0x4c: A |= X; break;
        case 0xa4: A ^= k; break;
        case 0xac: A ^= X; break;
        case 0x64: A = k < 32 ? A << k : 0; break;
        case 0x6c: A = X < 32 ? A << X : 0; break;
        case 0x74: A = k < 32 ? A >> k : 0; break;
        case 0x7c: A = X < 32 ? A >> X : 0; break;
        case 0x84: A = -A; break;
        case 0x05: pc += k; break; /* ja */
        case 0x15: pc += A == k ? i->jt : i->jf; break;
        case 0x1d: pc += A == X ? i->jt : i->jf; break;
        case 0x25: pc += A > k ? i->jt : i->jf; break;
        case 0x2d: pc += A > X ? i->jt : i->jf; break;
        case 0x35: pc += A >= k ? i->jt : i->jf; break;
        case 0x3d: pc += A >= X ? i->jt : i->jf; break;
        case 0x45: pc += (A & k) ? i->jt : i->jf; break;
        case 0x4d: pc += (A & X) ? i->jt : i->jf; break;
        case TL_BPF_RET_K: return k; /* ret #k */
        case 0x16: return A; /* ret a */
        case 0x07: X = A; break; /* tax */
        case 0x87: A = X; break; /* txa */
        default: return 0; /* not accepted by the kernel */
        }
    }
    return 0;
}

/* Would the program's seccomp let trapline make call nr (from our own code) without
 * killing, trapping or failing it? */
int tl_seccomp_allows(long nr, long a0, long a1, long a2)
{
    int mode = __atomic_load_n(&tl_seccomp_mode, __ATOMIC_ACQUIRE);
    if (LIKELY(mode == TL_SECCOMP_MODE_DISABLED)) return 1;
    if (mode == TL_SECCOMP_MODE_STRICT) return nr == SYS_read || nr == SYS_write || nr == SYS_exit || nr == SYS_rt_sigreturn;
    if (__atomic_load_n(&deny_all, __ATOMIC_ACQUIRE)) return 0;
    struct sc_data d = {(int)nr, TL_AUDIT_ARCH_X86_64, tl_text_lo, {(uint64_t)a0, (uint64_t)a1, (uint64_t)a2, 0, 0, 0}};
    int n = __atomic_load_n(&n_filters, __ATOMIC_ACQUIRE);
    for (int f = 0; f < n; f++) {
        uint32_t act = run_filter(filters[f].prog, filters[f].len, &d) & TL_SECCOMP_RET_ACTION_FULL;
        if (act != TL_SECCOMP_RET_ALLOW && act != TL_SECCOMP_RET_LOG) return 0;
    }
    return 1;
}

/* The calls a rewrite makes: /proc/self/maps (openat, read, close), mprotect twice and,
 * with threads, membarrier. */
int tl_seccomp_allows_rewrite(void)
{
    if (LIKELY(tl_seccomp_mode == TL_SECCOMP_MODE_DISABLED)) return 1;
    return tl_seccomp_allows(SYS_openat, AT_FDCWD, 0, 0) && tl_seccomp_allows(SYS_read, 0, 0, 0) &&
        tl_seccomp_allows(SYS_close, 0, 0, 0) && tl_seccomp_allows(SYS_mprotect, 0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) &&
        tl_seccomp_allows(SYS_mprotect, 0, 4096, PROT_READ | PROT_EXEC) && tl_seccomp_allows(SYS_membarrier, 0, 0, 0);
}

/* Our signal restorer's rt_sigreturn failed (err): the program's filter returned an errno
 * for it. Nothing can resume the program; say why in one line, then stop it. */
HIDDEN __attribute__((noreturn)) void tl_sigreturn_denied(long err);
void tl_sigreturn_denied(long err)
{
    (void)err;
    tl_error("the program's seccomp filter denies rt_sigreturn, which trapline needs after every trapped call",
             "(sud-only mode, or a site not yet rewritten); allow rt_sigreturn in the filter,",
             "or run in lazy mode with the sites rewritten before the filter is installed (docs/design.md)");
    tl_sys1(SYS_exit_group, TL_EXIT_SETUP);
    __builtin_trap();
}

/* seccomp(op, flags, args) or prctl(PR_SET_SECCOMP, mode, prog) by the program: performed,
 * and on success recorded. The filter is copied before the call (the program may free
 * it once installed). */
long tl_seccomp_call(long nr, long a0, long a1, long a2, long a3, long a4)
{
    long op;
    uint64_t fprog;
    if (nr == SYS_seccomp) {
        op = a0;
        fprog = (uint64_t)a2;
    } else {
        op = a1 == TL_SECCOMP_MODE_STRICT  ? TL_SECCOMP_SET_MODE_STRICT
            : a1 == TL_SECCOMP_MODE_FILTER ? TL_SECCOMP_SET_MODE_FILTER
                                           : -1;
        fprog = (uint64_t)a2;
    }
    struct bpf_insn_ *copy = 0;
    uint32_t len = 0;
    size_t bytes = 0;
    if (op == TL_SECCOMP_SET_MODE_FILTER) {
        struct {
            uint16_t len;
            uint16_t pad[3];
            uint64_t filter;
        } fp;
        if (tl_seccomp_allows(SYS_mmap, 0, 0, PROT_READ | PROT_WRITE) && tl_safe_read(fprog, &fp, sizeof fp) && fp.len &&
            fp.len <= TL_BPF_MAXINSNS) {
            bytes = ((size_t)fp.len * sizeof *copy + 4095) & ~4095ul;
            long m = tl_sys6(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m > 0 || m < -4096) {
                copy = (struct bpf_insn_ *)m;
                if (tl_safe_read(fp.filter, copy, fp.len * sizeof *copy)) len = fp.len;
            }
        }
    }
    /* A filter that denies rt_sigreturn: every trap would end in it. Our SIGSYS handler
     * is switched (while rt_sigaction may still be allowed) to leave without it. */
    if (len && !tl_sigsys_noreturn) {
        struct sc_data d = {SYS_rt_sigreturn, TL_AUDIT_ARCH_X86_64, tl_text_lo, {0, 0, 0, 0, 0, 0}};
        uint32_t act = run_filter(copy, len, &d) & TL_SECCOMP_RET_ACTION_FULL;
        if (act != TL_SECCOMP_RET_ALLOW && act != TL_SECCOMP_RET_LOG && tl_seccomp_allows(SYS_rt_sigaction, SIGSYS, 0, 0))
            tl_up.sigsys_noreturn();
    }
    long r = nr == SYS_seccomp ? tl_sys3(nr, a0, a1, a2) : tl_sys5(nr, a0, a1, a2, a3, a4);
    if (r >= 0 && op == TL_SECCOMP_SET_MODE_STRICT && (nr == SYS_prctl || r == 0)) {
        __atomic_store_n(&tl_seccomp_mode, TL_SECCOMP_MODE_STRICT, __ATOMIC_RELEASE);
    } else if (r >= 0 && op == TL_SECCOMP_SET_MODE_FILTER) {
        tl_spin_lock(&lock);
        if (len && n_filters < MAX_FILTERS) {
            filters[n_filters].prog = copy;
            filters[n_filters].len = len;
            __atomic_store_n(&n_filters, n_filters + 1, __ATOMIC_RELEASE);
            copy = 0;
        } else if (n_filters < MAX_FILTERS) {
            /* a filter we could not copy: assume it forbids every optional call */
            static const struct bpf_insn_ kill = {TL_BPF_RET_K, 0, 0, TL_SECCOMP_RET_KILL_THREAD};
            filters[n_filters].prog = (struct bpf_insn_ *)&kill;
            filters[n_filters].len = 1;
            __atomic_store_n(&n_filters, n_filters + 1, __ATOMIC_RELEASE);
        } else {
            /* no room for one more copy: assume the filters forbid every optional call */
            __atomic_store_n(&deny_all, 1, __ATOMIC_RELEASE);
            tl_limit(TL_FLAG_SECCOMP_FULL, "warning: the program installed more seccomp filters than trapline keeps copies of;",
                     "it assumes they forbid every call of its own it can go without (no more sites are rewritten)", 0);
        }
        if (tl_seccomp_mode != TL_SECCOMP_MODE_STRICT) __atomic_store_n(&tl_seccomp_mode, TL_SECCOMP_MODE_FILTER, __ATOMIC_RELEASE);
        tl_spin_unlock(&lock);
    }
    if (copy && r < 0) tl_sys2(SYS_munmap, copy, bytes); /* (after a success: kept, munmap may be denied now) */
    return r;
}
