/* User hook libraries, in their own link-map namespace (dlmopen LM_ID_NEWLM).
 * While a hook runs, the thread's SUD selector is ALLOW (the hook's own libc calls are
 * not intercepted) and the program's vector state is saved around it (xsave). */
#include "tl.h"
#include "trapline.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>

int tl_hook_loaded;
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

static const struct trapline_api api = { TRAPLINE_ABI_VERSION, native_next };

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

int tl_hooks_load(void)
{
    if (!tl_cfg.hook) return 0;
    /* dlopen would block on a FIFO and read a device: only a regular file is loaded */
    struct { uint64_t a[18]; } st;
    if (tl_sys4(SYS_newfstatat, AT_FDCWD, tl_cfg.hook, &st, 0) == 0 && (st.a[3] & 0170000) != 0100000) {
        tl_error("cannot load hook library:", tl_cfg.hook, "is not a regular file");
        return -1;
    }
    void *h = dlmopen(LM_ID_NEWLM, tl_cfg.hook, RTLD_NOW | RTLD_LOCAL);
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
    if (native_hook) {
        if (ninit && ninit(&api) != 0) { tl_error("hook library", tl_cfg.hook, "refused to start (trapline_init returned non-zero)"); return -1; }
    } else {
        zp_fn slot = zp_next;
        if (zinit(0, &slot) != 0) { tl_error("hook library", tl_cfg.hook, "refused to start (__hook_init returned non-zero)"); return -1; }
        zp_hook = slot;
    }
    uint32_t r[4];
    cpuid(1, 0, r);
    if (r[2] & (1u << 27)) {           /* OSXSAVE */
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xsave_mask = ((uint64_t)hi << 32) | lo;
        cpuid(0xd, 0, r);
        xsave_size = r[1];
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
