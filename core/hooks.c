/* User hook libraries, in their own link-map namespace (dlmopen LM_ID_NEWLM).
 * While a hook runs, the thread's SUD selector is ALLOW (the hook's own libc calls are
 * not intercepted) and the program's vector state is saved around it: the registers a
 * hook can change, by plain moves, or the whole XSAVE state when the program has state
 * in use that moves cannot reach (x87 registers, AMX tiles, ...). A hook that declares
 * it uses no vector state (trapline_hook_flags) gets no save at all. */
#include "core/core.h"
#include <errno.h>
#include <fcntl.h>
#include <elf.h>
#include <sys/mman.h>
#include <dlfcn.h>
#include <link.h>

int tl_hook_loaded;
int tl_hook_loading;
typedef long (*zp_fn)(long, long, long, long, long, long, long);
static long (*native_hook)(struct trapline_call *);
static zp_fn zp_hook;

/* ---- the program's vector state around a hook ------------------------------------
 * XSAVE components (SDM vol. 1, 13.1) */
#define XC_X87 0x1ull
#define XC_SSE 0x2ull
#define XC_AVX 0x4ull
#define XC_OPMASK 0x20ull
#define XC_ZMM_HI256 0x40ull
#define XC_HI16_ZMM 0x80ull
#define XC_PKRU 0x200ull
/* components the register save covers in full (with MXCSR and the x87 control word) */
#define XC_REGS (XC_SSE | XC_AVX | XC_OPMASK | XC_ZMM_HI256 | XC_HI16_ZMM | XC_PKRU)
enum { VEC_NONE, VEC_XMM, VEC_YMM, VEC_ZMM }; /* which registers the CPU has */
/* the full-save instruction. Not XSAVEOPT: its "modified" optimisation skips components
 * unchanged since the last XRSTOR from the same address, trusting that the area still
 * holds them; ours is on the stack, which other calls reuse in between. */
enum { XS_FX, XS_XSAVE, XS_XSAVEC };
/* layout of the register save area (64-byte aligned): zmm/ymm/xmm0-15 at 64 * i, zmm16-31
 * at 1024 + 64 * (i - 16) */
#define R_K 2048 /* k0..k7 */
#define R_MXCSR 2112
#define R_PKRU 2120
#define R_SIZE 2176
#define VEC_FULL (~0ull) /* token: the full state was saved */

static int no_vector; /* the hook declared TRAPLINE_HOOK_NO_VECTOR */
static int vec_regs; /* VEC_*: 0 = always the full save */
static int xs_form; /* XS_* */
static int k_bw; /* AVX512BW: mask registers are 64 bits (else 16) */
static int x87_probe; /* tell whether registers suffice without XGETBV(1) (vec_save) */
static uint64_t xcr0; /* components enabled by the OS */
static uint32_t area_size; /* bytes for either save */
/* XRSTOR source that puts components back in their initial state (header all zero) */
static uint8_t init_area[576] __attribute__((aligned(64)));

struct pending {
    struct tl_frame *f;
    int deferred;
};

static struct pending *current(void) { return (struct pending *)tl_self()->hook_pending; }

/* inlined, so that the system call a hook asks for returns straight into the hook (one
 * return fewer to mispredict: see hook_call) */
static inline __attribute__((always_inline)) long next_common(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    /* the call a rule denied or injected: its decided result, not performed (core/policy.c) */
    long decided;
    if (UNLIKELY(tl_policy_on) && tl_policy_hook_result(nr, &decided)) return decided;
    /* most calls: not one the dispatch handles (those needing the frame are among them) */
    if (LIKELY(!tl_dispatch_handles(nr))) return tl_sys6(nr, a1, a2, a3, a4, a5, a6);
    if (tl_dispatch_needs_frame(nr)) {
        struct pending *p = current();
        if (p && p->f->via == TL_VIA_I386) return -EINVAL; /* an i386 frame: only i386 calls */
        if (p) {
            struct tl_frame *f = p->f;
            f->rax = (uint64_t)nr;
            f->rdi = (uint64_t)a1;
            f->rsi = (uint64_t)a2;
            f->rdx = (uint64_t)a3;
            f->r10 = (uint64_t)a4;
            f->r8 = (uint64_t)a5;
            f->r9 = (uint64_t)a6;
            p->deferred = 1;
            return 0;
        }
    }
    return tl_perform_args(nr, a1, a2, a3, a4, a5, a6);
}

/* an i386 call (int $0x80) asked for by a native hook: performed in the i386 table */
static long next_i386(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    if (tl_up.i386_needs_frame(nr)) {
        struct pending *p = current();
        if (p && p->f->via == TL_VIA_I386) {
            /* the kernel reads the low halves; the upper ones stay the program's, since
             * int $0x80 preserves the registers */
            struct tl_frame *f = p->f;
#define LOW32(reg, v) f->reg = (f->reg & ~0xffffffffull) | (uint32_t)(v)
            f->rax = (uint64_t)nr;
            LOW32(rbx, a1);
            LOW32(rcx, a2);
            LOW32(rdx, a3);
            LOW32(rsi, a4);
            LOW32(rdi, a5);
            LOW32(rbp, a6);
#undef LOW32
            p->deferred = 1;
            return 0;
        }
    }
    return tl_up.i386_perform(nr, a1, a2, a3, a4, a5, a6);
}

/* Functions that return across a system call (into the hook, or from the hook's call back
 * to core/entry.S) return through __x86_return_thunk (core/entry.S: pop, then an indirect
 * jump): the kernel refills the return stack buffer on the way back from a system call
 * (RSB filling), so a plain `ret` to a caller that called before it mispredicts, ~5 ns on
 * this machine each; the indirect jump is predicted from its own history. */
#define RETURNS_ACROSS_SYSCALL __attribute__((function_return("thunk-extern")))

static RETURNS_ACROSS_SYSCALL long native_next(struct trapline_call *c)
{
    if (c->abi == TRAPLINE_ABI_I386)
        return next_i386(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
    return next_common(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
}

static __attribute__((unused)) RETURNS_ACROSS_SYSCALL long zp_next(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    return next_common(nr, a1, a2, a3, a4, a5, a6);
}

static __attribute__((unused)) struct trapline_api api = {TRAPLINE_ABI_VERSION, native_next, 0};

/* ---- while the hook loads (interception on, tl_hook_loading set) */

/* The program's code: the executable segments of the modules mapped before the hook,
 * except the dynamic loader (whose calls while loading are the loader's) and us. */
static struct {
    uint64_t lo, hi;
} prog_text[64];
static int n_prog_text;

static int collect_text(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (info->dlpi_addr && info->dlpi_addr == tl_auxv_get(AT_BASE)) return 0; /* ld.so */
    for (int i = 0; i < info->dlpi_phnum && n_prog_text < 64; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (lo >= tl_text_lo && hi <= tl_text_hi) continue;
        prog_text[n_prog_text].lo = lo;
        prog_text[n_prog_text].hi = hi;
        n_prog_text++;
    }
    return 0;
}

int tl_hook_program_site(uint64_t site)
{
    for (int i = 0; i < n_prog_text; i++)
        if (site >= prog_text[i].lo && site < prog_text[i].hi) return 1;
    if (tl_vdso_lo && site >= tl_vdso_lo && site < tl_vdso_hi) return 1;
    return 0;
}

/* The loader's cache of library paths, if it has it mapped when the hook starts to
 * load: glibc's loader unmaps it at the end of every dlopen, so the hook's loading makes
 * the unmapping the program's loader would do right after (sud/boot.c) happen now. That
 * call is the program's: counted as such. */
static struct {
    uint64_t lo, hi;
} cache;

static int find_cache(const struct tl_mapping *m, void *arg)
{
    (void)arg;
    if (!tl_streq(m->path, "/etc/ld.so.cache")) return 0;
    cache.lo = m->start;
    cache.hi = m->end;
    return 1;
}

int tl_hook_program_call(const struct tl_frame *f)
{
    return f->rax == SYS_munmap && cache.hi && f->rdi == cache.lo && ((f->rdi + f->rsi + 4095) & ~4095ull) == cache.hi;
}

static const char *signame(int sig)
{
    switch (sig) {
    case SIGSEGV: return "crashed while starting (SIGSEGV)";
    case SIGBUS: return "crashed while starting (SIGBUS)";
    case SIGILL: return "crashed while starting (SIGILL)";
    case SIGFPE: return "crashed while starting (SIGFPE)";
    case SIGABRT: return "crashed while starting (SIGABRT)";
    case SIGTRAP: return "crashed while starting (SIGTRAP)";
    default: return "crashed while starting";
    }
}

/* A fatal signal while the hook library loads: its constructor or init crashed. */
void tl_hook_crashed(int sig)
{
    tl_hook_loading = 0;
    tl_error("hook library", tl_cfg.hook, signame(sig));
    tl_sys1(SYS_exit_group, TL_EXIT_SETUP);
    __builtin_unreachable();
}

static void on_crash(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    tl_hook_crashed(sig);
}

static const int crash_sigs[] = {SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};

/* an exported symbol that is a function: in executable memory */
static __attribute__((unused)) int is_code(void *p)
{
    struct tl_mapping m;
    return p && tl_maps_find((uint64_t)p, &m) == 0 && (m.prot & PROT_EXEC);
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static inline uint64_t xinuse(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
    return ((uint64_t)hi << 32) | lo;
}

/* 16 moves of registers lo..lo+15 (lo = 0 or 16) to or from a + off + 64 * (i - lo):
 * REGS_ST(insn, register prefix, lo, off) stores, REGS_LD loads */
#define IRP16_0 ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
#define IRP16_16 ".irp i,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n\t"
#define REGS_ST(insn, reg, lo, off) IRP16_##lo insn " %%" reg "\\i, (" #off " + 64 * (\\i - " #lo "))(%0)\n\t.endr"
#define REGS_LD(insn, reg, lo, off) IRP16_##lo insn " (" #off " + 64 * (\\i - " #lo "))(%0), %%" reg "\\i\n\t.endr"
#define K8(insn, st) ".irp i,0,1,2,3,4,5,6,7\n\t" insn " " st "\n\t.endr"

/* MXCSR, the register components in v and PKRU, to a */
static inline __attribute__((always_inline)) void save_regs(uint8_t *a, uint64_t v)
{
    __asm__ volatile("stmxcsr %c1(%0)" : : "r"(a), "i"(R_MXCSR) : "memory");
    if (vec_regs == VEC_XMM)
        __asm__ volatile(REGS_ST("movdqu", "xmm", 0, 0) : : "r"(a) : "memory");
    else if (v & XC_ZMM_HI256)
        __asm__ volatile(REGS_ST("vmovdqu64", "zmm", 0, 0) : : "r"(a) : "memory");
    else if (v & XC_AVX)
        __asm__ volatile(REGS_ST("vmovdqu", "ymm", 0, 0) : : "r"(a) : "memory");
    else
        __asm__ volatile(REGS_ST("vmovdqu", "xmm", 0, 0) : : "r"(a) : "memory");
    if (vec_regs == VEC_ZMM) {
        if (v & XC_HI16_ZMM) __asm__ volatile(REGS_ST("vmovdqu64", "zmm", 16, 1024) : : "r"(a) : "memory");
        if (v & XC_OPMASK) {
            if (k_bw)
                __asm__ volatile(K8("kmovq", "%%k\\i, (2048 + 8 * \\i)(%0)") : : "r"(a) : "memory");
            else
                __asm__ volatile(K8("kmovw", "%%k\\i, (2048 + 8 * \\i)(%0)") : : "r"(a) : "memory");
        }
    }
    if (xcr0 & XC_PKRU) {
        uint32_t pk;
        __asm__ volatile("rdpkru" : "=a"(pk) : "c"(0) : "rdx");
        *(uint32_t *)(a + R_PKRU) = pk;
    }
}

/* Saves the program's vector state at a (64-byte aligned, area_size bytes). Returns a
 * token for vec_restore: the register components saved, or VEC_FULL when the whole state
 * was. Only registers are saved when the x87 unit is in its initial state (control word
 * 0x37f, status word 0, every register empty: its state in use sends the call to the
 * full save) and nothing else beyond the registers is in use. Two ways to tell:
 * - x87_probe (XCR0 enables nothing beyond x87 and the registers, as on this machine's
 *   CPU): the control and status words, then FXAM of st(0). An x87 stack holding values
 *   has a non-zero stack pointer (TOP) in the status word, except when all eight
 *   registers are full, and MMX state sets TOP to 0 with every register full: st(0) is
 *   then not empty. About 6 ns, where XGETBV(1) costs 12-18 ns. Every register component
 *   is then saved, in use or not (moves are cheap).
 * - else XGETBV(1) (XINUSE), and only the register components in use are saved. */
static inline __attribute__((always_inline)) uint64_t vec_save(uint8_t *a)
{
    int probed = 0;
    if (vec_regs) {
        if (x87_probe) {
            /* the moves first (the check is mostly waiting; they overlap it), wasted
             * only when the x87 unit turns out to be in use */
            uint64_t v = XC_REGS & xcr0;
            save_regs(a, v);
            uint16_t cw, sw, cls;
            __asm__ volatile("fnstcw %0\n\t fnstsw %1" : "=m"(cw), "=m"(sw));
            if (LIKELY(cw == 0x37f && sw == 0)) {
                /* C3 C2 C0 = 1 0 1: st(0) is empty. FXAM set the condition codes, a
                 * comparison of 1 with 0 (pushed and popped again) clears them: the
                 * status word is 0 again */
                __asm__ volatile("fxam\n\t fnstsw %0" : "=a"(cls));
                if (LIKELY((cls & 0x4500) == 0x4100)) {
                    __asm__ volatile("fldz\n\t fld1\n\t fcompp" : : : "memory");
                    return v;
                }
                probed = 1; /* the program's status word was 0: put back below */
            }
        }
        uint64_t v = xinuse() & xcr0;
        if (!(v & ~XC_REGS)) {
            save_regs(a, v);
            return v;
        }
    }
    uint32_t lo = (uint32_t)xcr0, hi = (uint32_t)(xcr0 >> 32);
    switch (xs_form) {
    case XS_XSAVEC:
        memset(a + 512, 0, 64); /* XRSTOR checks the header's reserved bytes */
        __asm__ volatile("xsavec64 (%0)" : : "r"(a), "a"(lo), "d"(hi) : "memory");
        break;
    case XS_XSAVE:
        memset(a + 512, 0, 64);
        __asm__ volatile("xsave64 (%0)" : : "r"(a), "a"(lo), "d"(hi) : "memory");
        break;
    default: __asm__ volatile("fxsave64 (%0)" : : "r"(a) : "memory");
    }
    if (probed) *(uint16_t *)(a + 2) = 0; /* FSW in the legacy region, as before FXAM */
    return VEC_FULL;
}

/* Puts back what vec_save saved; the register components that were not in use (in their
 * initial state, all zero) are zero again, whatever the hook left in them. */
static inline __attribute__((always_inline)) void vec_restore(uint8_t *a, uint64_t v)
{
    if (v == VEC_FULL) {
        uint32_t lo = (uint32_t)xcr0, hi = (uint32_t)(xcr0 >> 32);
        if (xs_form == XS_FX)
            __asm__ volatile("fxrstor64 (%0)" : : "r"(a) : "memory");
        else
            __asm__ volatile("xrstor64 (%0)" : : "r"(a), "a"(lo), "d"(hi) : "memory");
        return;
    }
    /* The x87 unit was in its initial state. A hook that used it leaves its traces in
     * the status word (its stack pointer, condition codes, exception flags) or the
     * control word: the unit goes back to its initial state (one XRSTOR of that
     * component; a second XGETBV(1) here would cost every call ~12 ns). Read first:
     * the loads below overlap the wait. */
    uint16_t cw, sw;
    __asm__ volatile("fnstcw %0\n\t fnstsw %1" : "=m"(cw), "=m"(sw));
    if (UNLIKELY(sw != 0 || cw != 0x37f))
        __asm__ volatile("xrstor64 (%0)" : : "r"(init_area), "a"((uint32_t)XC_X87), "d"(0) : "memory");
    /* a VEX load of an xmm or ymm register zeroes the bits above it: upper halves that
     * were not in use are zero again. vzeroupper also tells the CPU they are clean, so
     * that the program's SSE code pays no transition cost. */
    if (vec_regs == VEC_XMM) {
        __asm__ volatile(REGS_LD("movdqu", "xmm", 0, 0) : : "r"(a) : "memory");
    } else if (v & XC_ZMM_HI256) {
        __asm__ volatile(REGS_LD("vmovdqu64", "zmm", 0, 0) : : "r"(a) : "memory");
    } else if (v & XC_AVX) {
        __asm__ volatile(REGS_LD("vmovdqu", "ymm", 0, 0) : : "r"(a) : "memory");
    } else {
        __asm__ volatile("vzeroupper\n\t" REGS_LD("vmovdqu", "xmm", 0, 0) : : "r"(a) : "memory");
    }
    if (vec_regs == VEC_ZMM) {
        if (v & XC_HI16_ZMM)
            __asm__ volatile(REGS_LD("vmovdqu64", "zmm", 16, 1024) : : "r"(a) : "memory");
        else /* an EVEX.128 xor zeroes the whole register */
            __asm__ volatile(
                ".irp i,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n\tvpxord %%xmm\\i, %%xmm\\i, %%xmm\\i\n\t.endr"
                :
                :
                : "memory");
        if (!(v & XC_OPMASK))
            __asm__ volatile(K8("kxorw", "%%k\\i, %%k\\i, %%k\\i") : : : "memory");
        else if (k_bw)
            __asm__ volatile(K8("kmovq", "(2048 + 8 * \\i)(%0), %%k\\i") : : "r"(a) : "memory");
        else
            __asm__ volatile(K8("kmovw", "(2048 + 8 * \\i)(%0), %%k\\i") : : "r"(a) : "memory");
    }
    /* MXCSR is loaded back (cheaper here than reading it to compare: LDMXCSR ~0.3 ns,
     * STMXCSR ~3.5 ns), PKRU only if the hook changed it (wrpkru is slow) */
    __asm__ volatile("ldmxcsr %c0(%1)" : : "i"(R_MXCSR), "r"(a) : "memory");
    if (xcr0 & XC_PKRU) {
        uint32_t pk;
        __asm__ volatile("rdpkru" : "=a"(pk) : "c"(0) : "rdx");
        if (pk != *(uint32_t *)(a + R_PKRU))
            __asm__ volatile("wrpkru" : : "a"(*(uint32_t *)(a + R_PKRU)), "c"(0), "d"(0) : "memory");
    }
}

/* Chooses how vector state is saved around a hook on this CPU (cpuid, XCR0) */
static void vec_init(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t maxleaf = r[0];
    cpuid(1, 0, r);
    area_size = 512;
    if (!(r[2] & (1u << 27))) return; /* no OSXSAVE: fxsave (SSE and x87 only) */
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = ((uint64_t)hi << 32) | lo;
    if (maxleaf < 0xd) return;
    cpuid(0xd, 0, r);
    area_size = r[1]; /* standard form for XCR0 */
    xs_form = XS_XSAVE;
    cpuid(0xd, 1, r);
    if (r[0] & 2) xs_form = XS_XSAVEC; /* compacted: never larger than the standard form */
    if (!(r[0] & 4)) return; /* no XGETBV(1): cannot tell what is in use */
    if ((xcr0 & (XC_OPMASK | XC_ZMM_HI256 | XC_HI16_ZMM)) == (XC_OPMASK | XC_ZMM_HI256 | XC_HI16_ZMM) && (xcr0 & XC_AVX)) {
        vec_regs = VEC_ZMM;
        cpuid(7, 0, r);
        k_bw = (r[1] >> 30) & 1;
    } else if (xcr0 & (XC_OPMASK | XC_ZMM_HI256 | XC_HI16_ZMM))
        return; /* a partial AVX-512 set: use the full save */
    else if (xcr0 & XC_AVX)
        vec_regs = VEC_YMM;
    else if (xcr0 & XC_SSE)
        vec_regs = VEC_XMM;
    if (area_size < R_SIZE) area_size = R_SIZE;
    x87_probe = vec_regs && !(xcr0 & ~(XC_REGS | XC_X87));
    ((uint32_t *)init_area)[6] = 0x1f80; /* MXCSR (not loaded: the mask never has SSE/AVX) */
}

/* A copy of the process's environment without this library in LD_PRELOAD and without any
 * TRAPLINE_* variable: the environment of a hook's namespace, so that the programs a hook
 * starts (system(), posix_spawn, exec) are not interposed unless it asks for it
 * (docs/hooks.md). NULL if it cannot be built. */
static char **env_without_us(char **environ)
{
    size_t n = 0, bytes = 0;
    for (char **e = environ; e && *e; e++, n++) bytes += tl_strlen(*e) + 1;
    size_t total = (n + 1) * sizeof(char *) + bytes;
    long m = tl_sys6(SYS_mmap, 0, (long)total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m < 0 && m > -4096) return 0;
    char **out = (char **)m;
    char *str = (char *)(m + (long)((n + 1) * sizeof(char *)));
    size_t k = 0;
    for (char **e = environ; e && *e; e++) {
        if (tl_starts(*e, "TRAPLINE_")) continue;
        if (!tl_starts(*e, "LD_PRELOAD=")) {
            out[k++] = *e;
            continue;
        }
        /* LD_PRELOAD minus our entry; dropped if nothing else is left */
        size_t len = tl_preload_without_us(str, tl_strlen(*e) + 1, *e + 11);
        if (len) {
            out[k++] = str;
            str += len;
        }
    }
    out[k] = 0;
    return out;
}
#ifdef TL_BOOT
/* api->interposed_env of a program entered at its first instruction, whose environment
 * holds nothing of ours: the program's, with our settings (tl_env) and libtrapline.so
 * first in LD_PRELOAD, so that a program the hook starts with it is interposed the
 * preload way (it is not exec'd through us: the hook's calls go straight to the kernel).
 * The program's environment as it is if it cannot be built. */
static char **env_with_us(char **environ)
{
    int n_cfg;
    const char *const *cfg = tl_env_settings(&n_cfg);
    const char *lib = tl_lib_path();
    if (!lib[0]) return environ;
    size_t n = 0, bytes = tl_strlen(lib) + 16;
    for (char **e = environ; e && *e; e++, n++) bytes += tl_strlen(*e) + 1;
    size_t total = (n + (size_t)n_cfg + 2) * sizeof(char *) + bytes;
    long m = tl_sys6(SYS_mmap, 0, (long)total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m < 0 && m > -4096) return environ;
    char **out = (char **)m;
    char *str = (char *)(m + (long)((n + (size_t)n_cfg + 2) * sizeof(char *)));
    size_t k = 0;
    const char *app = 0;
    for (char **e = environ; e && *e; e++) {
        if (tl_starts(*e, "TRAPLINE_")) continue;
        if (tl_starts(*e, "LD_PRELOAD=")) {
            app = *e + 11;
            continue;
        }
        out[k++] = *e;
    }
    for (int i = 0; i < n_cfg; i++) out[k++] = (char *)cfg[i];
    out[k++] = str;
    for (const char *p = "LD_PRELOAD="; *p; p++) *str++ = *p;
    for (const char *p = lib; *p; p++) *str++ = *p;
    /* then the program's own entries (ours, from an outer run, left out) */
    size_t len = app ? tl_preload_without_us(str + 1, tl_strlen(app) + 12, app) : 0;
    if (len) {
        *str = ':';
        for (size_t i = 0; i < len - 11; i++) str[1 + i] = str[12 + i]; /* drop its "LD_PRELOAD=" */
    } else {
        *str = 0;
    }
    out[k] = 0;
    return out;
}
#endif

static int load(const struct tl_dl *dl)
{
    if (!tl_cfg.hook) return 0;
    /* dlopen would block on a FIFO and read a device: only a regular file is loaded */
    struct {
        uint64_t a[18];
    } st;
    if (tl_sys4(SYS_newfstatat, AT_FDCWD, tl_cfg.hook, &st, 0) == 0 && (st.a[3] & 0170000) != 0100000) {
        tl_error("cannot load hook library:", tl_cfg.hook, "is not a regular file");
        return -1;
    }
    /* The hook's namespace gets an environment without LD_PRELOAD's entry for us and
     * without TRAPLINE_*: what it starts (system(), posix_spawn) is not interposed unless
     * it passes api->interposed_env. Its libc is loaded first, so that the environment is
     * in place before the hook's own constructors run. */
#ifdef TL_BOOT
    api.interposed_env = env_with_us(dl->envp);
#else
    api.interposed_env = dl->envp;
#endif
    Lmid_t ns = LM_ID_NEWLM;
    void *libc = dl->dlmopen(LM_ID_NEWLM, "libc.so.6", RTLD_NOW | RTLD_LOCAL);
    if (libc && dl->dlinfo(libc, RTLD_DI_LMID, &ns) == 0) {
        char ***env = (char ***)dl->dlsym(libc, "environ");
        char **clean = env_without_us(dl->envp);
        if (!clean)
            tl_error("warning: out of memory for the hook's own environment:", "the programs it starts will be interposed", 0);
        else if (env)
            *env = clean;
        /* loaded before the program's libc has run its constructor, this libc got no argv:
         * its program_invocation_name as the program's */
        char **pin = dl->argv0 ? (char **)dl->dlsym(libc, "program_invocation_name") : 0;
        char **psn = dl->argv0 ? (char **)dl->dlsym(libc, "program_invocation_short_name") : 0;
        if (pin) *pin = (char *)dl->argv0;
        if (psn) {
            const char *b = dl->argv0;
            for (const char *q = dl->argv0; *q; q++)
                if (*q == '/') b = q + 1;
            *psn = (char *)b;
        }
    } else {
        ns = LM_ID_NEWLM;
    }
    void *h = dl->dlmopen(ns, tl_cfg.hook, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dl->dlerror();
        tl_error("cannot load hook library:", e ? e : tl_cfg.hook, 0);
        return -1;
    }
    const unsigned *flags = (const unsigned *)dl->dlsym(h, "trapline_hook_flags");
    no_vector = flags && (*flags & TRAPLINE_HOOK_NO_VECTOR);
    native_hook = (long (*)(struct trapline_call *))dl->dlsym(h, "trapline_hook");
    int (*ninit)(const struct trapline_api *) = (int (*)(const struct trapline_api *))dl->dlsym(h, "trapline_init");
    int (*zinit)(long, void *) = (int (*)(long, void *))dl->dlsym(h, "__hook_init");
    if (!native_hook && !zinit) {
        tl_error("hook library", tl_cfg.hook, "exports neither trapline_hook nor __hook_init");
        return -1;
    }
    if (native_hook && !is_code((void *)native_hook)) {
        tl_error("hook library", tl_cfg.hook, "exports trapline_hook, but not as a function (it is not in executable memory)");
        return -1;
    }
    if (native_hook) {
        if (ninit && !is_code((void *)ninit)) {
            tl_error("hook library", tl_cfg.hook, "exports trapline_init, but not as a function (it is not in executable memory)");
            return -1;
        }
        if (ninit && ninit(&api) != 0) {
            tl_error("hook library", tl_cfg.hook, "refused to start (trapline_init returned non-zero)");
            return -1;
        }
    } else {
        if (!is_code((void *)zinit)) {
            tl_error("hook library", tl_cfg.hook, "exports __hook_init, but not as a function (it is not in executable memory)");
            return -1;
        }
        zp_fn slot = zp_next;
        if (zinit(0, &slot) != 0) {
            tl_error("hook library", tl_cfg.hook, "refused to start (__hook_init returned non-zero)");
            return -1;
        }
        if (!slot) {
            tl_error("hook library", tl_cfg.hook, "stored a NULL hook function (__hook_init left *hook_ptr NULL)");
            return -1;
        }
        if (!is_code((void *)slot)) {
            tl_error("hook library", tl_cfg.hook, "stored a hook function that is not in executable memory (__hook_init)");
            return -1;
        }
        zp_hook = slot;
    }
    return 0;
}

#ifndef TL_BOOT
static int dl_iterate(int (*cb)(void *, size_t, void *), void *data)
{
    return dl_iterate_phdr((int (*)(struct dl_phdr_info *, size_t, void *))cb, data);
}
static void *dl_open(long ns, const char *file, int mode) { return dlmopen((Lmid_t)ns, file, mode); }

/* the preloaded library: libc's own, linked */
int tl_hooks_load(void)
{
    extern char **environ;
    struct tl_dl dl = {dl_open, dlsym, (int (*)(void *, int, void *))dlinfo, dlerror, dl_iterate, environ, 0};
    return tl_hooks_load_dl(&dl);
}
#endif

int tl_hooks_load_dl(const struct tl_dl *dl)
{
    if (!tl_cfg.hook) return 0;
    /* a crash while the library starts (constructors, init) is reported, not a bare
     * signal: SIGSEGV through our handler, the others through a temporary one */
    struct tl_ksigaction crash = {(void *)on_crash, SA_SIGINFO | SA_ONSTACK | SA_RESTORER, tl_restorer, 0}, prev[5];
    for (int i = 0; i < 5; i++) tl_sys4(SYS_rt_sigaction, crash_sigs[i], &crash, &prev[i], 8);
    dl->iterate_phdr((int (*)(void *, size_t, void *))collect_text, 0);
    /* every call to C while the hook loads, also from sites the program's loader has
     * already had rewritten (a program entered at its first instruction): tl_dispatch
     * tells the loader's and the hook's calls from the program's */
    static uint8_t c_before[TL_NR_MAX];
    for (unsigned i = 0; i < TL_NR_MAX; i++) {
        c_before[i] = tl_special[i] & TL_SPECIAL_C;
        tl_special[i] |= TL_SPECIAL_C;
    }
    tl_tcbs_refresh_special();
    cache.lo = cache.hi = 0;
    tl_maps_each(find_cache, 0); /* the map keeps paths of code only */
    tl_hook_loading = 1;
    int r = load(dl);
    tl_hook_loading = 0;
    for (unsigned i = 0; i < TL_NR_MAX; i++) tl_special[i] = (uint8_t)((tl_special[i] & ~TL_SPECIAL_C) | c_before[i]);
    /* put back what was there, unless code that ran during the load (the hook's own
     * constructors) installed a handler of its own meanwhile: that one stays */
    for (int i = 0; i < 5; i++) {
        struct tl_ksigaction now;
        if (tl_sys4(SYS_rt_sigaction, crash_sigs[i], 0, &now, 8) == 0 && now.handler != (void *)on_crash) continue;
        tl_sys4(SYS_rt_sigaction, crash_sigs[i], &prev[i], 0, 8);
    }
    if (r) return r;
    vec_init();
    tl_hook_loaded = 1;
    /* the hook's own calls (it may map memory) are unseen from now on, whichever entry
     * reaches it: our map of the address space is no longer the truth (core/vmmap.c) */
    __atomic_store_n(&tl_vm_suspect, 1, __ATOMIC_RELAXED);
    /* every call to C: the ones the dispatch handles (TL_SPECIAL_C) and those with a
     * NULL-read argument check (TL_SPECIAL_ARG) by the slow path, the others by the hooked
     * entry (TL_SPECIAL_HOOK) */
    for (unsigned i = 0; i < TL_NR_MAX; i++) tl_special[i] |= TL_SPECIAL_HOOK;
    if (tl_stats) tl_stats->flags |= TL_FLAG_HOOK;
    return 0;
}

/* inlined into tl_dispatch_hooked: after the hook's system call every return mispredicts
 * on this machine (the kernel's return mitigations leave the return stack buffer out of
 * step), so each level of calls costs about 5 ns there. fast: f is a rewritten site's
 * frame (TL_VIA_FAST), so the i386 cases fold away. */
static inline __attribute__((always_inline)) long hook_call(struct tl_frame *f, int *pass, int fast)
{
    int i386 = !fast && f->via == TL_VIA_I386;
    /* a zpoline-ABI hook cannot be told a call is i386: it never sees one */
    if (i386 && !native_hook) {
        *pass = 1;
        return 0;
    }
    struct tl_tcb *t = tl_self();
    struct pending p = {f, 0}, *prev = (struct pending *)t->hook_pending;
    t->hook_pending = &p;
    /* the program's vector state, saved around foreign code (unless it uses none) */
    uint8_t area[no_vector ? 64 : area_size + 64] __attribute__((aligned(64)));
    uint8_t *xs = (uint8_t *)(((uint64_t)area + 63) & ~63ull);
    uint64_t vtok = no_vector ? 0 : vec_save(xs);
    uint8_t sel = t->selector;
    t->selector = TL_SUD_ALLOW; /* the hook's own calls go straight to the kernel */
    long ret;
    if (native_hook) {
        struct trapline_call c;
        if (!i386) {
            c.nr = (long)f->rax;
            c.args[0] = (long)f->rdi;
            c.args[1] = (long)f->rsi;
            c.args[2] = (long)f->rdx;
            c.args[3] = (long)f->r10;
            c.args[4] = (long)f->r8;
            c.args[5] = (long)f->r9;
            c.site = f->ret - 2;
            c.via = fast ? TRAPLINE_VIA_FAST : (int)f->via;
            c.abi = TRAPLINE_ABI_X86_64;
        } else {
            c.nr = (long)(int)f->rax;
            c.args[0] = (long)(uint32_t)f->rbx;
            c.args[1] = (long)(uint32_t)f->rcx;
            c.args[2] = (long)(uint32_t)f->rdx;
            c.args[3] = (long)(uint32_t)f->rsi;
            c.args[4] = (long)(uint32_t)f->rdi;
            c.args[5] = (long)(uint32_t)f->rbp;
            c.site = f->ret - 2;
            c.via = TRAPLINE_VIA_TRAP;
            c.abi = TRAPLINE_ABI_I386;
        }
        ret = native_hook(&c);
    } else {
        ret = zp_hook((long)f->rax, (long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8, (long)f->r9);
    }
    t->selector = sel;
    if (!no_vector) vec_restore(xs, vtok);
    __asm__ volatile("cld");
    t->hook_pending = prev;
    *pass = p.deferred;
    return ret;
}

long tl_hook_call(struct tl_frame *f, int *pass) { return hook_call(f, pass, 0); }

/* A call from a rewritten site while a user hook is loaded, of a number tl_dispatch_handles
 * does not list (TL_SPECIAL_HOOK, core/entry.S .Lfast_hooked, which has counted it as
 * the fast path does): the hook. Returns tl_dispatch's action (TL_ACT_SIGRETURN, which
 * only a hook asking for it through api->syscall can bring here). */
RETURNS_ACROSS_SYSCALL long tl_dispatch_hooked(struct tl_frame *f)
{
    uint64_t nr = f->rax; /* < TL_NR_MAX (entry.S); a deferred call may change f->rax */
    int pass = 0, action = TL_ACT_RESUME;
    long ret = hook_call(f, &pass, 1);
    if (UNLIKELY(pass)) ret = tl_perform_frame(f, &action);
    if (UNLIKELY(ret < 0 && ret > -4096)) {
        /* this thread's errors[nr] (T_COUNTS -> fast[], then errors[]): one increment,
         * which a signal handler's own calls cannot split */
        uint64_t *n = &tl_self()->counts[TL_NR_MAX + nr];
        __asm__ volatile("incq %0" : "+m"(*n));
    }
    f->rax = (uint64_t)ret;
    return action;
}
