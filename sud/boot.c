/* The boot image: this library's code, built a second time (TL_BOOT, no libc) as
 * libtrapline-boot.so, which the injector (sud/inject.c) maps into a program stopped at
 * its first instruction, before its dynamic loader or its _start has run. Nothing has
 * relocated it: tl_boot_relocate does (it runs before any code that reads a pointer from
 * data). tl_boot_main then starts trapline from the settings the injector wrote
 * (tl_env) and the auxiliary vector on the program's initial stack (tl_auxv). */
#include "sud/sud.h"
#include "sud/boot.h"
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ucontext.h>

extern const Elf64_Ehdr __ehdr_start HIDDEN;
extern const Elf64_Dyn _DYNAMIC[] HIDDEN;
HIDDEN void tl_boot_relocate(void);
HIDDEN int tl_boot_map(long fd);
HIDDEN int tl_boot_main(struct tl_boot_args *a);
static uint64_t tl_boot_sp0; /* the program's initial stack pointer */

/* The injector mapped the whole file read+execute at our base. The segments that are not
 * text get their own protection here, before anything reads or writes data: writable
 * ones (and their bss) mapped private and writable from the file, read-only ones made
 * non-executable. Touches no global (nothing is relocated yet). 0, or -errno. */
int tl_boot_map(long fd)
{
    uint64_t base = (uint64_t)&__ehdr_start;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + __ehdr_start.e_phoff);
    for (int i = 0; i < __ehdr_start.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_X)) continue;
        uint64_t start = base + (ph[i].p_vaddr & ~4095ull);
        uint64_t fend = base + ph[i].p_vaddr + ph[i].p_filesz, mend = base + ph[i].p_vaddr + ph[i].p_memsz;
        uint64_t pend = (fend + 4095) & ~4095ull, aend = (mend + 4095) & ~4095ull;
        long r;
        if (!(ph[i].p_flags & PF_W)) {
            r = tl_sys3(SYS_mprotect, start, pend - start, PROT_READ);
            if (r) return (int)r;
            continue;
        }
        if (ph[i].p_filesz) {
            r = tl_sys6(SYS_mmap, (long)start, (long)(pend - start), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                        (long)(ph[i].p_offset & ~4095ull));
            if (r != (long)start) return r < 0 ? (int)r : -1;
            for (volatile uint8_t *p = (volatile uint8_t *)fend; (uint64_t)p < pend; p++) *p = 0; /* bss start */
        }
        if (aend > pend) {
            r = tl_sys6(SYS_mmap, (long)pend, (long)(aend - pend), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
                        -1, 0);
            if (r != (long)pend) return r < 0 ? (int)r : -1;
        }
    }
    return 0;
}

/* R_X86_64_RELATIVE is the only relocation a hidden-visibility, libc-free image has
 * (the link checks it: -z text, no undefined symbols); it touches no global itself. */
void tl_boot_relocate(void)
{
    uint64_t base = (uint64_t)&__ehdr_start, rela = 0, size = 0, ent = sizeof(Elf64_Rela);
    for (const Elf64_Dyn *d = _DYNAMIC; d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_RELA)
            rela = base + d->d_un.d_ptr;
        else if (d->d_tag == DT_RELASZ)
            size = d->d_un.d_val;
        else if (d->d_tag == DT_RELAENT)
            ent = d->d_un.d_val;
    }
    for (uint64_t off = 0; rela && off + sizeof(Elf64_Rela) <= size; off += ent) {
        const Elf64_Rela *r = (const Elf64_Rela *)(rela + off);
        if (ELF64_R_TYPE(r->r_info) == R_X86_64_RELATIVE) *(volatile uint64_t *)(base + r->r_offset) = base + (uint64_t)r->r_addend;
    }
}

/* --vdso off: the program is not told where the vDSO is (the injector took it out of
 * the auxiliary vector); its mappings go too, so that the process looks as on a kernel
 * without one. (/proc/self/auxv, the kernel's copy, still lists it.) */
static int vdso_range(const struct tl_mapping *m, void *arg)
{
    uint64_t *r = arg;
    if (tl_streq(m->path, "[vdso]") || tl_streq(m->path, "[vvar]") || tl_streq(m->path, "[vvar_vclock]")) {
        if (!r[0] || m->start < r[0]) r[0] = m->start;
        if (m->end > r[1]) r[1] = m->end;
    }
    return 0;
}

static void unmap_vdso(void)
{
    uint64_t r[2] = {0, 0};
    tl_maps_each(vdso_range, r);
    if (r[0] && r[1] > r[0]) tl_sys2(SYS_munmap, r[0], r[1] - r[0]);
}

/* ---- a hook, loaded when the program's dynamic loader is done ----------------------
 * A hook lives in a namespace of its own, which only the program's dynamic loader can
 * make, with a libc of its own. The boot image runs before that loader, so it waits for
 * it: a `hlt` replaces the `ret` of glibc's _dl_debug_state, the function the loader
 * calls for debuggers whenever its list of objects changes. In user mode `hlt` faults: a
 * SIGSEGV, which trapline owns whatever the program (an LD_AUDIT module, say) does with
 * its signals (sud/signals.c passes it here, tl_loader_hit). The first time the base
 * namespace is reported consistent after objects were added (RT_ADD, then
 * RT_CONSISTENT: dl_main is done; every object of the program is loaded and relocated,
 * libc's early initialisation has run, and no constructor has), the handler puts
 * the byte back and sends the thread into hook_late instead of the `ret`. hook_late loads
 * the hook as the preloaded library would, with the program's libc's dlmopen, and
 * returns to the loader, which goes on to run the constructors: every one of them, and
 * the program, is hooked. Other hits are the `ret` they replaced. */

/* glibc's <link.h>: struct r_debug, and the head of struct link_map */
#define RDEBUG_MAP 8
#define RDEBUG_STATE 24
#define RT_CONSISTENT 0
#define RT_ADD 1
struct lm_head {
    uint64_t addr;
    const char *name;
    const void *ld;
    const struct lm_head *next, *prev;
};

static struct {
    uint64_t brk; /* the `ret` of _dl_debug_state, a hlt while armed */
    uint64_t r_debug; /* the loader's _r_debug */
    int seen_add; /* the loader reported RT_ADD */
    char **envp; /* the program's environment, on its initial stack */
    const char *argv0;
} late;

/* n bytes (1 or 8) of the loader's code or data: written through /proc/self/mem, which
 * keeps the page's permissions as they are (the write is the kernel's copy-on-write of a
 * private page); if /proc is missing, by a write between two mprotect calls, the page
 * then given back prot (the loader's text is r-x, its RELRO data read-only by now) */
static int poke(uint64_t addr, uint64_t v, int n, int prot)
{
    long fd = tl_sys4(SYS_openat, AT_FDCWD, "/proc/self/mem", O_RDWR | O_CLOEXEC, 0);
    if (fd >= 0) {
        long r = tl_sys4(SYS_pwrite64, fd, (long)&v, n, (long)addr);
        tl_sys1(SYS_close, fd);
        if (r == n) return 0;
    }
    uint64_t page = addr & ~4095ull;
    if (tl_sys3(SYS_mprotect, page, 4096, PROT_READ | PROT_WRITE)) return -1;
    if (n == 8)
        *(volatile uint64_t *)addr = v;
    else
        *(volatile uint8_t *)addr = (uint8_t)v;
    return tl_sys3(SYS_mprotect, page, 4096, prot) ? -1 : 0;
}
#define POKE_CODE(addr, byte) poke((addr), (byte), 1, PROT_READ | PROT_EXEC)
#define POKE_RELRO(addr, word) poke((addr), (word), 8, PROT_READ)

static void hook_skip(const char *why)
{
    if (!tl_cfg.quiet) tl_error("warning:", why, "- it is interposed without the hook");
    tl_cfg.hook = 0;
    tl_cfg.hook_skipped = 1;
    if (tl_stats) __atomic_or_fetch(&tl_stats->flags, TL_FLAG_HOOK_SKIPPED, __ATOMIC_RELAXED);
}

/* dlsym for the hook's handles, asked only for a symbol some object of the handle's
 * namespace defines (a glibc handle is its link map; the namespace is that list): dlsym
 * itself resolves it (versions, dependencies, IFUNC), but a dlsym that fails records the
 * error in a block it allocates with the program's malloc (trapline_hook_flags, say, is
 * often absent) */
static void *(*real_dlsym)(void *, const char *);
static void *lm_sym(void *handle, const char *name)
{
    const struct lm_head *l = handle, *head = l;
    if (!l) return 0;
    while (head->prev) head = head->prev;
    for (const struct lm_head *o = head; o; o = o->next)
        if (tl_elf_symbol(o->addr, o->ld, name)) return real_dlsym(handle, name);
    return 0;
}

/* the loader's own functions for the hook: those of the program's libc (glibc 2.34 and
 * later define them in libc.so.6), found in the link map. 0, or -1. */
static int find_dl(struct tl_dl *dl)
{
    static const char *const names[] = {"dlmopen", "dlsym", "dlinfo", "dlerror", "dl_iterate_phdr"};
    uint64_t f[5];
    const struct lm_head *first = *(const struct lm_head *const *)(late.r_debug + RDEBUG_MAP);
    for (int pass = 0; pass < 2; pass++)
        for (const struct lm_head *l = first; l; l = l->next) {
            const char *base = l->name ? l->name : "";
            for (const char *q = base; *q; q++)
                if (*q == '/') base = q + 1;
            if (pass == 0 && !tl_starts(base, "libc.so")) continue;
            int k = 0;
            for (; k < 5 && (f[k] = tl_elf_symbol(l->addr, l->ld, names[k])); k++)
                ;
            if (k < 5) continue;
            dl->dlmopen = (void *(*)(long, const char *, int))f[0];
            real_dlsym = (void *(*)(void *, const char *))f[1];
            dl->dlsym = lm_sym;
            dl->dlinfo = (int (*)(void *, int, void *))f[2];
            dl->dlerror = (char *(*)(void))f[3];
            dl->iterate_phdr = (int (*)(int (*)(void *, size_t, void *), void *))f[4];
            dl->envp = late.envp;
            dl->argv0 = late.argv0;
            return 0;
        }
    return -1;
}

/* ---- the loader's allocations for the hook, off the program's heap
 * Once it has relocated the program, glibc's loader allocates with the program's malloc
 * (its __rtld_malloc, __rtld_calloc, __rtld_realloc and __rtld_free point there). Loading
 * the hook with them would start or grow the program's heap at a moment it would not
 * natively: brk and getrandom calls it never makes, and other addresses for what it
 * allocates. So for the duration the four pointers lead here: while the hook loads, to
 * an arena of our own (never reused: what is freed stays); otherwise to the program's
 * functions, unchanged, except for blocks of the arena, which only we free or grow. The
 * pointers are found by value in the loader's writable segment (each exactly once, or
 * nothing is changed and the program's malloc serves the loading: docs/hooks.md). */
static struct {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    uint64_t lo, used, cap; /* the arena */
    int on; /* the hook is loading: allocate in the arena */
} heap;
#define ARENA_CAP (64ul << 20) /* reserved, committed as used */

static int in_arena(const void *p) { return (uint64_t)p >= heap.lo && (uint64_t)p < heap.lo + heap.cap; }

/* a block of the arena (threads the hook's constructors start may allocate meanwhile);
 * 0 when it is full: then the program's malloc serves (less invisible, never a failure) */
static void *arena_alloc(size_t n)
{
    uint64_t need = ((uint64_t)n + 16 + 15) & ~15ull, at = __atomic_load_n(&heap.used, __ATOMIC_RELAXED);
    do {
        if (!heap.lo || n > heap.cap || need > heap.cap - at) return 0;
    } while (!__atomic_compare_exchange_n(&heap.used, &at, at + need, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    uint64_t *h = (uint64_t *)(heap.lo + at);
    h[0] = n; /* the size, for realloc */
    return h + 2;
}

static void *ld_malloc(size_t n)
{
    void *p = heap.on ? arena_alloc(n) : 0;
    return p ? p : heap.malloc(n);
}
static void *ld_calloc(size_t a, size_t b)
{
    if (b && a > ~(size_t)0 / b) return heap.calloc(a, b); /* its overflow answer */
    void *p = heap.on ? arena_alloc(a * b) : 0; /* fresh anonymous memory: zero */
    return p ? p : heap.calloc(a, b);
}
static void ld_free(void *p)
{
    if (!in_arena(p)) heap.free(p);
}
static void *ld_realloc(void *p, size_t n)
{
    if (!in_arena(p)) return heap.on && !p ? ld_malloc(n) : heap.realloc(p, n);
    size_t old = (size_t)((uint64_t *)p)[-2];
    void *q = ld_malloc(n);
    if (q) memcpy(q, p, old < n ? old : n);
    return q;
}

/* Points the loader's four allocation functions here. 0 if done, -1 if left as they were. */
static int heap_divert(const struct tl_dl *dl)
{
    (void)dl;
    void *const fns[4] = {real_dlsym(0 /* RTLD_DEFAULT */, "malloc"), real_dlsym(0, "calloc"), real_dlsym(0, "realloc"),
                          real_dlsym(0, "free")};
    uint64_t base = tl_auxv_get(AT_BASE), at[4] = {0, 0, 0, 0};
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    for (int k = 0; k < 4; k++)
        if (!fns[k]) return -1;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_W)) continue;
        const uint64_t *w = (const uint64_t *)((base + ph[i].p_vaddr + 7) & ~7ull);
        const uint64_t *end = (const uint64_t *)(base + ph[i].p_vaddr + ph[i].p_filesz);
        for (; w < end; w++)
            for (int k = 0; k < 4; k++)
                if (*w == (uint64_t)fns[k]) {
                    if (at[k]) return -1; /* twice: not knowably the loader's pointer */
                    at[k] = (uint64_t)w;
                }
    }
    for (int k = 0; k < 4; k++)
        if (!at[k]) return -1;
    long m = tl_sys6(SYS_mmap, 0, ARENA_CAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m < 0 && m > -4096) return -1;
    heap.lo = (uint64_t)m;
    heap.cap = ARENA_CAP;
    heap.malloc = (void *(*)(size_t))fns[0];
    heap.calloc = (void *(*)(size_t, size_t))fns[1];
    heap.realloc = (void *(*)(void *, size_t))fns[2];
    heap.free = (void (*)(void *))fns[3];
    const uint64_t ours[4] = {(uint64_t)ld_malloc, (uint64_t)ld_calloc, (uint64_t)ld_realloc, (uint64_t)ld_free};
    for (int k = 0; k < 4; k++)
        if (POKE_RELRO(at[k], ours[k])) {
            for (int j = 0; j < k; j++) POKE_RELRO(at[j], (uint64_t)fns[j]);
            tl_sys2(SYS_munmap, heap.lo, heap.cap);
            heap.lo = 0;
            return -1;
        }
    return 0;
}

/* Entered from the SIGTRAP handler in place of _dl_debug_state's `ret`, on the loader's
 * stack as a called function (its return address on top): returns into the loader. */
static __attribute__((used, noinline)) void hook_late(void)
{
    struct tl_dl dl;
    if (find_dl(&dl)) {
        hook_skip("no library of the program defines dlmopen (glibc 2.34 or later's libc does): a hook cannot be "
                  "loaded into it");
    } else {
        if (heap_divert(&dl) == 0) heap.on = 1;
        int r = tl_hooks_load_dl(&dl);
        heap.on = 0;
        if (r) tl_sys1(SYS_exit_group, TL_EXIT_SETUP);
    }
    tl_start_note();
    if (tl_hook_loaded) tl_vm_invalidate(); /* the hook's set-up mapped memory unseen */
    tl_tcbs_refresh_special();
}

/* A SIGSEGV with si_code SI_KERNEL at the hlt (sud/signals.c): 1 if it was ours */
static int loader_hit(void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    if ((uint64_t)g[REG_RIP] != late.brk) return 0;
    int state = *(volatile int *)(late.r_debug + RDEBUG_STATE);
    if (state == RT_ADD) late.seen_add = 1;
    if (!late.seen_add || state != RT_CONSISTENT) { /* the `ret` */
        g[REG_RIP] = *(greg_t *)g[REG_RSP];
        g[REG_RSP] += 8;
        return 1;
    }
    if (POKE_CODE(late.brk, 0xc3)) tl_die("cannot restore the dynamic loader's code after loading the hook", 0, 0);
    tl_loader_brk = 0;
    tl_loader_hit = 0;
    g[REG_RIP] = (greg_t)(uint64_t)hook_late;
    return 1;
}

/* After start-up, with a hook asked for: arms the breakpoint in the program's loader, or
 * says why the hook cannot be loaded (a static program, a loader other than glibc's). */
static void hook_arm(void)
{
    uint64_t base = tl_auxv_get(AT_BASE);
    if (!base) {
        hook_skip("the program is statically linked: a hook needs the program's dynamic loader");
        return;
    }
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    const void *dyn = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_DYNAMIC) dyn = (const void *)(base + ph[i].p_vaddr);
    uint64_t fn = dyn ? tl_elf_symbol(base, dyn, "_dl_debug_state") : 0;
    late.r_debug = dyn ? tl_elf_symbol(base, dyn, "_r_debug") : 0;
    if (!fn || !late.r_debug || !tl_elf_symbol(base, dyn, "_rtld_global")) {
        hook_skip("the program's dynamic loader is not glibc's: a hook cannot be loaded into it");
        return;
    }
    const uint8_t *c = (const uint8_t *)fn;
    if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa) c += 4; /* endbr64 */
    if (c[0] != 0xc3) {
        hook_skip("the dynamic loader's _dl_debug_state is not a plain return here: a hook cannot be loaded");
        return;
    }
    late.brk = (uint64_t)c;
    /* the program's initial stack: argc, argv[], NULL, envp[] */
    uint64_t *sp = (uint64_t *)tl_boot_sp0;
    late.envp = (char **)(sp + 1 + sp[0] + 1);
    late.argv0 = sp[0] ? (const char *)sp[1] : 0;
    tl_loader_hit = loader_hit;
    tl_loader_brk = late.brk;
    if (POKE_CODE(late.brk, 0xf4 /* hlt */)) tl_die("cannot arm the loading of the hook in the program's dynamic loader", 0, 0);
}

int tl_boot_main(struct tl_boot_args *a)
{
    if (a->magic != TL_BOOT_MAGIC || a->version != TL_BOOT_VERSION) {
        tl_write_err("trapline: the boot image does not match the injector (rebuild trapline)\n");
        tl_sys1(SYS_exit_group, 2);
    }
    /* the initial stack: argc, argv[], NULL, envp[], NULL, auxv pairs */
    uint64_t *sp = (uint64_t *)a->sp0;
    uint64_t *p = sp + 1 + sp[0] + 1;
    while (*p) p++;
    tl_auxv = p + 1;
    /* the block goes once we are started: everything kept from it is copied (the settings
     * stay referenced: tl_cfg points into them) */
    char **in = (char **)a->settings;
    size_t n = 0, bytes = tl_strlen((const char *)a->self) + 1;
    for (; in && in[n]; n++) bytes += tl_strlen(in[n]) + 1;
    long m =
        tl_sys6(SYS_mmap, 0, (long)((n + 1) * sizeof(char *) + bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m < 0 && m > -4096) {
        tl_write_err("trapline: cannot allocate memory for its settings\n");
        tl_sys1(SYS_exit_group, 2);
    }
    char **out = (char **)m;
    char *s = (char *)(out + n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t l = tl_strlen(in[i]) + 1;
        memcpy(s, in[i], l);
        out[i] = s;
        s += l;
    }
    out[n] = 0;
    memcpy(s, (const char *)a->self, tl_strlen((const char *)a->self) + 1);
    tl_env = out;
    tl_self_name = s;
    tl_booted = 1;
    tl_sys1(SYS_close, a->fd);
    if (a->vdso_hidden) unmap_vdso();
    tl_boot_sp0 = a->sp0;
    tl_start();
    if (tl_cfg.hook) hook_arm();
    if (!tl_loader_brk) tl_start_note(); /* no hook to wait for after all */
    return 1;
}
