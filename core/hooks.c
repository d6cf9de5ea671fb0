/* User hook libraries, in their own link-map namespace (dlmopen LM_ID_NEWLM).
 * While a hook runs, the thread's SUD selector is ALLOW (the hook's own libc calls are
 * not intercepted) and the program's vector state is saved around it (xsave). */
#include "tl.h"
#include "trapline.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <elf.h>
#include <sys/auxv.h>
#include <sys/mman.h>

int tl_hook_loaded;
int tl_hook_loading;
typedef long (*zp_fn)(long, long, long, long, long, long, long);
static long (*native_hook)(struct trapline_call *);
static zp_fn zp_hook;
static uint64_t xsave_mask;
static uint32_t xsave_size;

struct pending { struct tl_frame *f; int deferred; };

static struct pending *current(void)
{
    return (struct pending *)tl_self()->hook_pending;
}

static long next_common(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    if (tl_dispatch_needs_frame(nr)) {
        struct pending *p = current();
        if (p && p->f->via == TL_VIA_I386) return -EINVAL;   /* an i386 frame: only i386 calls */
        if (p) {
            struct tl_frame *f = p->f;
            f->rax = (uint64_t)nr; f->rdi = (uint64_t)a1; f->rsi = (uint64_t)a2; f->rdx = (uint64_t)a3;
            f->r10 = (uint64_t)a4; f->r8 = (uint64_t)a5; f->r9 = (uint64_t)a6;
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
    if (tl_i386_needs_frame(nr)) {
        struct pending *p = current();
        if (p && p->f->via == TL_VIA_I386) {
            /* the kernel reads the low halves; the upper ones stay the program's, since
             * int $0x80 preserves the registers */
            struct tl_frame *f = p->f;
#define LOW32(reg, v) f->reg = (f->reg & ~0xffffffffull) | (uint32_t)(v)
            f->rax = (uint64_t)nr;
            LOW32(rbx, a1); LOW32(rcx, a2); LOW32(rdx, a3); LOW32(rsi, a4); LOW32(rdi, a5); LOW32(rbp, a6);
#undef LOW32
            p->deferred = 1;
            return 0;
        }
    }
    return tl_i386_perform_args(nr, a1, a2, a3, a4, a5, a6);
}

static long native_next(struct trapline_call *c)
{
    if (c->abi == TRAPLINE_ABI_I386)
        return next_i386(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
    return next_common(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4], c->args[5]);
}

static long zp_next(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    return next_common(nr, a1, a2, a3, a4, a5, a6);
}

static struct trapline_api api = { TRAPLINE_ABI_VERSION, native_next, 0 };

/* ---- while the hook loads (interception on, tl_hook_loading set) */

/* The program's code: the executable segments of the modules mapped before the hook,
 * except the dynamic loader (whose calls while loading are the loader's) and us. */
static struct { uint64_t lo, hi; } prog_text[64];
static int n_prog_text;

static int collect_text(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size; (void)data;
    if (info->dlpi_addr && info->dlpi_addr == getauxval(AT_BASE)) return 0;   /* ld.so */
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
    for (int i = 0; i < n_prog_text; i++) if (site >= prog_text[i].lo && site < prog_text[i].hi) return 1;
    if (tl_vdso_lo && site >= tl_vdso_lo && site < tl_vdso_hi) return 1;
    return 0;
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
    tl_sys1(SYS_exit_group, 2);
    __builtin_unreachable();
}

static void on_crash(int sig, siginfo_t *si, void *uc)
{
    (void)si; (void)uc;
    tl_hook_crashed(sig);
}

static const int crash_sigs[] = { SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };

/* an exported symbol that is a function: in executable memory */
static int is_code(void *p)
{
    struct tl_mapping m;
    return p && tl_maps_find((uint64_t)p, &m) == 0 && (m.prot & PROT_EXEC);
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static int load(void)
{
    if (!tl_cfg.hook) return 0;
    /* dlopen would block on a FIFO and read a device: only a regular file is loaded */
    struct { uint64_t a[18]; } st;
    if (tl_sys4(SYS_newfstatat, AT_FDCWD, tl_cfg.hook, &st, 0) == 0 && (st.a[3] & 0170000) != 0100000) {
        tl_error("cannot load hook library:", tl_cfg.hook, "is not a regular file");
        return -1;
    }
    /* The hook's namespace gets an environment without LD_PRELOAD's entry for us and
     * without TRAPLINE_*: what it starts (system(), posix_spawn) is not interposed unless
     * it passes api->interposed_env. Its libc is loaded first, so that the environment is
     * in place before the hook's own constructors run. */
    extern char **environ;
    api.interposed_env = environ;
    Lmid_t ns = LM_ID_NEWLM;
    void *libc = dlmopen(LM_ID_NEWLM, "libc.so.6", RTLD_NOW | RTLD_LOCAL);
    if (libc && dlinfo(libc, RTLD_DI_LMID, &ns) == 0) {
        char ***env = (char ***)dlsym(libc, "environ");
        char **clean = tl_exec_env_without_us();
        if (env && clean) *env = clean;
    } else {
        ns = LM_ID_NEWLM;
    }
    void *h = dlmopen(ns, tl_cfg.hook, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        tl_error("cannot load hook library:", e ? e : tl_cfg.hook, 0);
        return -1;
    }
    native_hook = (long (*)(struct trapline_call *))dlsym(h, "trapline_hook");
    int (*ninit)(const struct trapline_api *) = (int (*)(const struct trapline_api *))dlsym(h, "trapline_init");
    int (*zinit)(long, void *) = (int (*)(long, void *))dlsym(h, "__hook_init");
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
        if (ninit && ninit(&api) != 0) { tl_error("hook library", tl_cfg.hook, "refused to start (trapline_init returned non-zero)"); return -1; }
    } else {
        if (!is_code((void *)zinit)) {
            tl_error("hook library", tl_cfg.hook, "exports __hook_init, but not as a function (it is not in executable memory)");
            return -1;
        }
        zp_fn slot = zp_next;
        if (zinit(0, &slot) != 0) { tl_error("hook library", tl_cfg.hook, "refused to start (__hook_init returned non-zero)"); return -1; }
        if (!slot) { tl_error("hook library", tl_cfg.hook, "stored a NULL hook function (__hook_init left *hook_ptr NULL)"); return -1; }
        if (!is_code((void *)slot)) { tl_error("hook library", tl_cfg.hook, "stored a hook function that is not in executable memory (__hook_init)"); return -1; }
        zp_hook = slot;
    }
    return 0;
}

int tl_hooks_load(void)
{
    if (!tl_cfg.hook) return 0;
    /* a crash while the library starts (constructors, init) is reported, not a bare
     * signal: SIGSEGV through our handler, the others through a temporary one */
    struct tl_ksigaction crash = { (void *)on_crash, SA_SIGINFO | SA_ONSTACK | SA_RESTORER, tl_restorer, 0 }, prev[5];
    for (int i = 0; i < 5; i++) tl_sys4(SYS_rt_sigaction, crash_sigs[i], &crash, &prev[i], 8);
    dl_iterate_phdr(collect_text, 0);
    tl_hook_loading = 1;
    int r = load();
    tl_hook_loading = 0;
    for (int i = 0; i < 5; i++) tl_sys4(SYS_rt_sigaction, crash_sigs[i], &prev[i], 0, 8);
    if (r) return r;
    uint32_t rr[4];
    cpuid(1, 0, rr);
    if (rr[2] & (1u << 27)) {           /* OSXSAVE */
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xsave_mask = ((uint64_t)hi << 32) | lo;
        cpuid(0xd, 0, rr);
        xsave_size = rr[1];
    }
    tl_hook_loaded = 1;
    for (unsigned i = 0; i < TL_NR_MAX; i++) tl_special[i] = 1;   /* every call to C */
    if (tl_stats) tl_stats->flags |= TL_FLAG_HOOK;
    return 0;
}

long tl_hook_call(struct tl_frame *f, int *pass)
{
    /* a zpoline-ABI hook cannot be told a call is i386: it never sees one */
    if (f->via == TL_VIA_I386 && !native_hook) { *pass = 1; return 0; }
    struct tl_tcb *t = tl_self();
    struct pending p = { f, 0 }, *prev = (struct pending *)t->hook_pending;
    t->hook_pending = &p;
    /* the program's vector state, saved in full around foreign code */
    uint8_t area[xsave_size + 64] __attribute__((aligned(64)));
    uint8_t *xs = (uint8_t *)(((uint64_t)area + 63) & ~63ull);
    uint32_t lo = (uint32_t)xsave_mask, hi = (uint32_t)(xsave_mask >> 32);
    if (xsave_size) {
        memset(xs, 0, 64 + 512);
        __asm__ volatile("xsave64 (%0)" : : "r"(xs), "a"(lo), "d"(hi) : "memory");
    }
    uint8_t sel = t->selector;
    t->selector = 0;   /* ALLOW: the hook's own calls go straight to the kernel */
    long ret;
    if (native_hook) {
        struct trapline_call c = { (long)f->rax, { (long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8, (long)f->r9 },
                                   f->ret - 2, (int)f->via, TRAPLINE_ABI_X86_64 };
        if (f->via == TL_VIA_I386) {
            struct trapline_call c32 = { (long)(int)f->rax, { (long)(uint32_t)f->rbx, (long)(uint32_t)f->rcx, (long)(uint32_t)f->rdx,
                                         (long)(uint32_t)f->rsi, (long)(uint32_t)f->rdi, (long)(uint32_t)f->rbp },
                                         f->ret - 2, TRAPLINE_VIA_TRAP, TRAPLINE_ABI_I386 };
            c = c32;
        }
        ret = native_hook(&c);
    } else {
        ret = zp_hook((long)f->rax, (long)f->rdi, (long)f->rsi, (long)f->rdx, (long)f->r10, (long)f->r8, (long)f->r9);
    }
    t->selector = sel;
    if (xsave_size) __asm__ volatile("xrstor64 (%0)" : : "r"(xs), "a"(lo), "d"(hi) : "memory");
    __asm__ volatile("cld");
    t->hook_pending = prev;
    *pass = p.deferred;
    return ret;
}
