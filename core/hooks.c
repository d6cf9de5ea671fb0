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
/* layout of the register save area (64-byte aligned) */
#define R_K 2048 /* k0..k7 */
#define R_MXCSR 2112
#define R_FCW 2116
#define R_FSW 2118
#define R_PKRU 2120
#define R_SIZE 2176
#define VEC_FULL (~0ull) /* token: the full state was saved */

static int no_vector; /* the hook declared TRAPLINE_HOOK_NO_VECTOR */
static int vec_regs; /* VEC_*: 0 = always the full save */
static int xs_form; /* XS_* */
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
    if (tl_dispatch_handles(nr)) return tl_perform_args(nr, a1, a2, a3, a4, a5, a6);
    return tl_sys6(nr, a1, a2, a3, a4, a5, a6);
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

static long native_next(struct trapline_call *c)
{
    if (c->abi == TRAPLINE_ABI_I386)
        return next_i386(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
    return next_common(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
}

static __attribute__((unused)) long zp_next(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
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

#define Z16(op, a, b)                                                                                                              \
    op " %%" a "0" b "\n\t" op " %%" a "1" b "\n\t" op " %%" a "2" b "\n\t" op " %%" a "3" b "\n\t" op " %%" a "4" b "\n\t" op     \
       " %%" a "5" b "\n\t" op " %%" a "6" b "\n\t" op " %%" a "7" b "\n\t" op " %%" a "8" b "\n\t" op " %%" a "9" b "\n\t" op     \
       " %%" a "10" b "\n\t" op " %%" a "11" b "\n\t" op " %%" a "12" b "\n\t" op " %%" a "13" b "\n\t" op " %%" a "14" b          \
       "\n\t" op " %%" a "15" b "\n\t"

/* Saves the program's vector state at a (64-byte aligned, area_size bytes). Returns a
 * token for vec_restore: the components in use (XINUSE) when only registers were saved,
 * VEC_FULL when the whole state was. */
static uint64_t vec_save(uint8_t *a)
{
    if (vec_regs) {
        uint64_t before = xinuse() & xcr0;
        if (!(before & ~XC_REGS)) {
            if (vec_regs == VEC_ZMM) {
                __asm__ volatile(
                    "vmovdqu64 %%zmm0, 0(%0)\n\t vmovdqu64 %%zmm1, 64(%0)\n\t vmovdqu64 %%zmm2, 128(%0)\n\t vmovdqu64 %%zmm3, "
                    "192(%0)\n\t"
                    "vmovdqu64 %%zmm4, 256(%0)\n\t vmovdqu64 %%zmm5, 320(%0)\n\t vmovdqu64 %%zmm6, 384(%0)\n\t vmovdqu64 %%zmm7, "
                    "448(%0)\n\t"
                    "vmovdqu64 %%zmm8, 512(%0)\n\t vmovdqu64 %%zmm9, 576(%0)\n\t vmovdqu64 %%zmm10, 640(%0)\n\t vmovdqu64 %%zmm11, "
                    "704(%0)\n\t"
                    "vmovdqu64 %%zmm12, 768(%0)\n\t vmovdqu64 %%zmm13, 832(%0)\n\t vmovdqu64 %%zmm14, 896(%0)\n\t vmovdqu64 "
                    "%%zmm15, 960(%0)\n\t"
                    "vmovdqu64 %%zmm16, 1024(%0)\n\t vmovdqu64 %%zmm17, 1088(%0)\n\t vmovdqu64 %%zmm18, 1152(%0)\n\t vmovdqu64 "
                    "%%zmm19, 1216(%0)\n\t"
                    "vmovdqu64 %%zmm20, 1280(%0)\n\t vmovdqu64 %%zmm21, 1344(%0)\n\t vmovdqu64 %%zmm22, 1408(%0)\n\t vmovdqu64 "
                    "%%zmm23, 1472(%0)\n\t"
                    "vmovdqu64 %%zmm24, 1536(%0)\n\t vmovdqu64 %%zmm25, 1600(%0)\n\t vmovdqu64 %%zmm26, 1664(%0)\n\t vmovdqu64 "
                    "%%zmm27, 1728(%0)\n\t"
                    "vmovdqu64 %%zmm28, 1792(%0)\n\t vmovdqu64 %%zmm29, 1856(%0)\n\t vmovdqu64 %%zmm30, 1920(%0)\n\t vmovdqu64 "
                    "%%zmm31, 1984(%0)\n\t"
                    "kmovq %%k0, 2048(%0)\n\t kmovq %%k1, 2056(%0)\n\t kmovq %%k2, 2064(%0)\n\t kmovq %%k3, 2072(%0)\n\t"
                    "kmovq %%k4, 2080(%0)\n\t kmovq %%k5, 2088(%0)\n\t kmovq %%k6, 2096(%0)\n\t kmovq %%k7, 2104(%0)\n\t"
                    :
                    : "r"(a)
                    : "memory");
            } else if (vec_regs == VEC_YMM) {
                __asm__ volatile(
                    "vmovdqu %%ymm0, 0(%0)\n\t vmovdqu %%ymm1, 64(%0)\n\t vmovdqu %%ymm2, 128(%0)\n\t vmovdqu %%ymm3, 192(%0)\n\t"
                    "vmovdqu %%ymm4, 256(%0)\n\t vmovdqu %%ymm5, 320(%0)\n\t vmovdqu %%ymm6, 384(%0)\n\t vmovdqu %%ymm7, "
                    "448(%0)\n\t"
                    "vmovdqu %%ymm8, 512(%0)\n\t vmovdqu %%ymm9, 576(%0)\n\t vmovdqu %%ymm10, 640(%0)\n\t vmovdqu %%ymm11, "
                    "704(%0)\n\t"
                    "vmovdqu %%ymm12, 768(%0)\n\t vmovdqu %%ymm13, 832(%0)\n\t vmovdqu %%ymm14, 896(%0)\n\t vmovdqu %%ymm15, "
                    "960(%0)\n\t"
                    :
                    : "r"(a)
                    : "memory");
            } else {
                __asm__ volatile(
                    "movdqu %%xmm0, 0(%0)\n\t movdqu %%xmm1, 64(%0)\n\t movdqu %%xmm2, 128(%0)\n\t movdqu %%xmm3, 192(%0)\n\t"
                    "movdqu %%xmm4, 256(%0)\n\t movdqu %%xmm5, 320(%0)\n\t movdqu %%xmm6, 384(%0)\n\t movdqu %%xmm7, 448(%0)\n\t"
                    "movdqu %%xmm8, 512(%0)\n\t movdqu %%xmm9, 576(%0)\n\t movdqu %%xmm10, 640(%0)\n\t movdqu %%xmm11, 704(%0)\n\t"
                    "movdqu %%xmm12, 768(%0)\n\t movdqu %%xmm13, 832(%0)\n\t movdqu %%xmm14, 896(%0)\n\t movdqu %%xmm15, "
                    "960(%0)\n\t"
                    :
                    : "r"(a)
                    : "memory");
            }
            __asm__ volatile("stmxcsr %c1(%0)\n\t fnstcw %c2(%0)\n\t fnstsw %c3(%0)"
                             :
                             : "r"(a), "i"(R_MXCSR), "i"(R_FCW), "i"(R_FSW)
                             : "memory");
            if (xcr0 & XC_PKRU) {
                uint32_t pk;
                __asm__ volatile("rdpkru" : "=a"(pk) : "c"(0) : "rdx");
                *(uint32_t *)(a + R_PKRU) = pk;
            }
            return before;
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
    return VEC_FULL;
}

static void vec_restore(uint8_t *a, uint64_t before)
{
    if (before == VEC_FULL) {
        uint32_t lo = (uint32_t)xcr0, hi = (uint32_t)(xcr0 >> 32);
        if (xs_form == XS_FX)
            __asm__ volatile("fxrstor64 (%0)" : : "r"(a) : "memory");
        else
            __asm__ volatile("xrstor64 (%0)" : : "r"(a), "a"(lo), "d"(hi) : "memory");
        return;
    }
    if (vec_regs == VEC_ZMM) {
        __asm__ volatile(
            "vmovdqu64 0(%0), %%zmm0\n\t vmovdqu64 64(%0), %%zmm1\n\t vmovdqu64 128(%0), %%zmm2\n\t vmovdqu64 192(%0), %%zmm3\n\t"
            "vmovdqu64 256(%0), %%zmm4\n\t vmovdqu64 320(%0), %%zmm5\n\t vmovdqu64 384(%0), %%zmm6\n\t vmovdqu64 448(%0), "
            "%%zmm7\n\t"
            "vmovdqu64 512(%0), %%zmm8\n\t vmovdqu64 576(%0), %%zmm9\n\t vmovdqu64 640(%0), %%zmm10\n\t vmovdqu64 704(%0), "
            "%%zmm11\n\t"
            "vmovdqu64 768(%0), %%zmm12\n\t vmovdqu64 832(%0), %%zmm13\n\t vmovdqu64 896(%0), %%zmm14\n\t vmovdqu64 960(%0), "
            "%%zmm15\n\t"
            "vmovdqu64 1024(%0), %%zmm16\n\t vmovdqu64 1088(%0), %%zmm17\n\t vmovdqu64 1152(%0), %%zmm18\n\t vmovdqu64 1216(%0), "
            "%%zmm19\n\t"
            "vmovdqu64 1280(%0), %%zmm20\n\t vmovdqu64 1344(%0), %%zmm21\n\t vmovdqu64 1408(%0), %%zmm22\n\t vmovdqu64 1472(%0), "
            "%%zmm23\n\t"
            "vmovdqu64 1536(%0), %%zmm24\n\t vmovdqu64 1600(%0), %%zmm25\n\t vmovdqu64 1664(%0), %%zmm26\n\t vmovdqu64 1728(%0), "
            "%%zmm27\n\t"
            "vmovdqu64 1792(%0), %%zmm28\n\t vmovdqu64 1856(%0), %%zmm29\n\t vmovdqu64 1920(%0), %%zmm30\n\t vmovdqu64 1984(%0), "
            "%%zmm31\n\t"
            "kmovq 2048(%0), %%k0\n\t kmovq 2056(%0), %%k1\n\t kmovq 2064(%0), %%k2\n\t kmovq 2072(%0), %%k3\n\t"
            "kmovq 2080(%0), %%k4\n\t kmovq 2088(%0), %%k5\n\t kmovq 2096(%0), %%k6\n\t kmovq 2104(%0), %%k7\n\t"
            :
            : "r"(a)
            : "memory");
    } else if (vec_regs == VEC_YMM) {
        __asm__ volatile(
            "vmovdqu 0(%0), %%ymm0\n\t vmovdqu 64(%0), %%ymm1\n\t vmovdqu 128(%0), %%ymm2\n\t vmovdqu 192(%0), %%ymm3\n\t"
            "vmovdqu 256(%0), %%ymm4\n\t vmovdqu 320(%0), %%ymm5\n\t vmovdqu 384(%0), %%ymm6\n\t vmovdqu 448(%0), %%ymm7\n\t"
            "vmovdqu 512(%0), %%ymm8\n\t vmovdqu 576(%0), %%ymm9\n\t vmovdqu 640(%0), %%ymm10\n\t vmovdqu 704(%0), %%ymm11\n\t"
            "vmovdqu 768(%0), %%ymm12\n\t vmovdqu 832(%0), %%ymm13\n\t vmovdqu 896(%0), %%ymm14\n\t vmovdqu 960(%0), %%ymm15\n\t"
            :
            : "r"(a)
            : "memory");
    } else {
        __asm__ volatile(
            "movdqu 0(%0), %%xmm0\n\t movdqu 64(%0), %%xmm1\n\t movdqu 128(%0), %%xmm2\n\t movdqu 192(%0), %%xmm3\n\t"
            "movdqu 256(%0), %%xmm4\n\t movdqu 320(%0), %%xmm5\n\t movdqu 384(%0), %%xmm6\n\t movdqu 448(%0), %%xmm7\n\t"
            "movdqu 512(%0), %%xmm8\n\t movdqu 576(%0), %%xmm9\n\t movdqu 640(%0), %%xmm10\n\t movdqu 704(%0), %%xmm11\n\t"
            "movdqu 768(%0), %%xmm12\n\t movdqu 832(%0), %%xmm13\n\t movdqu 896(%0), %%xmm14\n\t movdqu 960(%0), %%xmm15\n\t"
            :
            : "r"(a)
            : "memory");
    }
    /* MXCSR, the x87 control word and PKRU are written back only if the hook changed
     * them: an x87 write would mark x87 state in use, and wrpkru is slow */
    uint32_t mx;
    uint16_t cw, sw;
    __asm__ volatile("stmxcsr %0\n\t fnstcw %1\n\t fnstsw %2" : "=m"(mx), "=m"(cw), "=m"(sw));
    if (mx != *(uint32_t *)(a + R_MXCSR)) __asm__ volatile("ldmxcsr %c1(%0)" : : "r"(a), "i"(R_MXCSR) : "memory");
    /* x87 registers were not in use (else the full save was taken). A hook that used
     * them leaves its traces in the status word (its stack pointer, condition codes,
     * exception flags) or the control word: the x87 state goes back to its initial state
     * (one XRSTOR of that component; XGETBV(1) here would cost every call ~14 ns) */
    if ((sw != *(uint16_t *)(a + R_FSW) || cw != *(uint16_t *)(a + R_FCW)) && (xcr0 & XC_X87))
        __asm__ volatile("xrstor64 (%0)" : : "r"(init_area), "a"((uint32_t)XC_X87), "d"(0) : "memory");
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    if (cw != *(uint16_t *)(a + R_FCW)) __asm__ volatile("fldcw %c1(%0)" : : "r"(a), "i"(R_FCW) : "memory");
    if (xcr0 & XC_PKRU) {
        uint32_t pk;
        __asm__ volatile("rdpkru" : "=a"(pk) : "c"(0) : "rdx");
        if (pk != *(uint32_t *)(a + R_PKRU))
            __asm__ volatile("wrpkru" : : "a"(*(uint32_t *)(a + R_PKRU)), "c"(0), "d"(0) : "memory");
    }
    /* upper halves that were all zero (initial state) are so again: keep them clean */
    if (vec_regs >= VEC_YMM && !(before & (XC_AVX | XC_ZMM_HI256))) __asm__ volatile("vzeroupper");
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
    if ((xcr0 & (XC_OPMASK | XC_ZMM_HI256 | XC_HI16_ZMM)) == (XC_OPMASK | XC_ZMM_HI256 | XC_HI16_ZMM) && (xcr0 & XC_AVX))
        vec_regs = VEC_ZMM;
    else if (xcr0 & (XC_OPMASK | XC_ZMM_HI256 | XC_HI16_ZMM))
        return; /* a partial AVX-512 set: use the full save */
    else if (xcr0 & XC_AVX)
        vec_regs = VEC_YMM;
    else if (xcr0 & XC_SSE)
        vec_regs = VEC_XMM;
    if (area_size < R_SIZE) area_size = R_SIZE;
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
 * step), so each level of calls costs about 5 ns there */
static inline __attribute__((always_inline)) long hook_call(struct tl_frame *f, int *pass)
{
    /* a zpoline-ABI hook cannot be told a call is i386: it never sees one */
    if (f->via == TL_VIA_I386 && !native_hook) {
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
        struct trapline_call c = {(long)f->rax,
                                  {(long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8, (long)f->r9},
                                  f->ret - 2,
                                  (int)f->via,
                                  TRAPLINE_ABI_X86_64};
        if (f->via == TL_VIA_I386) {
            struct trapline_call c32 = {(long)(int)f->rax,
                                        {(long)(uint32_t)f->rbx, (long)(uint32_t)f->rcx, (long)(uint32_t)f->rdx,
                                         (long)(uint32_t)f->rsi, (long)(uint32_t)f->rdi, (long)(uint32_t)f->rbp},
                                        f->ret - 2,
                                        TRAPLINE_VIA_TRAP,
                                        TRAPLINE_ABI_I386};
            c = c32;
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

long tl_hook_call(struct tl_frame *f, int *pass) { return hook_call(f, pass); }

/* A call from a rewritten site while a user hook is loaded, of a number tl_dispatch_handles
 * does not list (TL_SPECIAL_HOOK, core/entry.S .Lfast_hooked): counted as tl_dispatch
 * counts it, then the hook. Returns tl_dispatch's action (TL_ACT_SIGRETURN, which only a
 * hook asking for it through api->syscall can bring here). */
long tl_dispatch_hooked(struct tl_frame *f)
{
    long nr = (long)f->rax;
    if (tl_stats) {
        tl_cov_nr(tl_cov_site(f->ret - 2, 0, 0), nr);
        tl_count_slow(nr, TL_VIA_FAST);
    }
    int pass = 0, action = TL_ACT_RESUME;
    long ret = hook_call(f, &pass);
    if (pass) ret = tl_perform_frame(f, &action);
    if (ret < 0 && ret > -4096) tl_count_error(nr);
    f->rax = (uint64_t)ret;
    return action;
}
