/* Entering a program at its first instruction. The kernel executes the program itself
 * (so its pid, /proc/self/exe, comm, argv, envp, auxv, ASLR, personality and stack are
 * the kernel's own), and a helper process that traces the exec'ing thread across the
 * execve loads the boot image (libtrapline-boot.so, sud/boot.c) into it while it is
 * stopped before its first instruction, runs trapline's start-up there, restores every
 * register and detaches. The program's first instruction then runs with SUD on.
 *
 * The helper is a grandchild orphaned at once (its parent exits and is reaped here), so
 * the program never has it as a child: no SIGCHLD, nothing for wait() to find. It runs
 * only this file's code, with raw system calls (it is a copy of the caller, which may be
 * any interposed program, or the launcher, launch/trapline-exec.c).
 *
 * Used by execve/execveat from an interposed process (sud/exec.c) and by the launcher.
 * No libc: this file is part of the boot image too. */
#include "sud/sud.h"
#include "sud/boot.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#endif
#ifndef PTRACE_LISTEN
#define PTRACE_LISTEN 0x4208
#endif
#define T_O_TRACEEXEC 0x10 /* PTRACE_O_TRACEEXEC */
#define T_EVENT_EXEC 4 /* PTRACE_EVENT_EXEC */
#define T_EVENT_STOP 128 /* PTRACE_EVENT_STOP */
#define T_WALL 0x40000000 /* __WALL */
#define T_WCLONE 0x80000000u /* __WCLONE */
#define TL_STR_(x) #x
#define TL_STR(x) TL_STR_(x)
#define PENDING_MAX 64 /* signals kept while the program is stopped (more: dropped) */

static size_t slen(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
static void bcopy_(void *d, const void *s, size_t n)
{
    for (size_t i = 0; i < n; i++) ((char *)d)[i] = ((const char *)s)[i];
}

/* ---- the helper: traces one thread across its exec ---------------------------------- */

/* The helper's state, on its own stack: it shares the memory of the program that armed
 * it (until that program's exec replaces it, and for good if a vfork child armed it: then
 * it is the parent's), so nothing of it may live in our static data. */
struct tracee {
    int pid, mem;
    int gone; /* the program exited or was killed meanwhile */
    int vdso_off; /* TRAPLINE_VDSO=off among the settings */
    int caps; /* TRAPLINE_CAPS among them: no capability may be left when the program runs */
    int caps_held; /* TRAPLINE_CAPS=drop: the launcher, about to make CAP_SYS_RAWIO ambient */
    const char *why; /* the step that failed */
    int pending[PENDING_MAX], npending; /* signals that arrived meanwhile, delivered after */
    uint32_t nset; /* settings in blk, after the pointer array */
    uint32_t used; /* bytes of blk in use */
    int img_bad; /* the boot image: 0 read, 1 cannot be opened, 2 not an x86-64 ELF file */
    uint64_t img_span, img_entry; /* its segments' extent and entry */
    uint8_t page[8192];
    /* the boot block as it will be written: args, pointers, the image's path, the
     * settings; built (copied) before the program may go on, pointers set at injection */
    uint8_t blk[TL_BOOT_AREA - TL_BOOT_STACK];
};

static void defer(struct tracee *t, int sig)
{
    if (t->npending < PENDING_MAX) t->pending[t->npending++] = sig;
}

/* waits for the next stop of the tracee: SIGTRAP (1), its end (0); other signals are
 * kept for later and the tracee is resumed with req */
static int wait_trap(struct tracee *t, long req)
{
    for (;;) {
        int st = 0;
        long w = tl_sys4(SYS_wait4, t->pid, &st, T_WALL, 0);
        if (w == -EINTR) continue;
        if (w < 0) {
            t->gone = 1;
            return 0;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            t->gone = 1;
            return 0;
        }
        if (!WIFSTOPPED(st)) continue;
        int sig = WSTOPSIG(st);
        if (sig == SIGTRAP && (st >> 16) == 0) return 1;
        if ((st >> 16) == T_EVENT_STOP) {
            tl_sys4(SYS_ptrace, req, t->pid, 0, 0);
            continue;
        }
        if (sig != SIGTRAP) defer(t, sig);
        tl_sys4(SYS_ptrace, req, t->pid, 0, 0);
    }
}

/* one system call made by the tracee at address at (a `syscall` instruction: single-
 * stepped; or `syscall; int3`: continued). -ESRCH-like 1ull<<63 if the tracee is gone. */
#define GONE ((long)(1ull << 63))
static long tsys(struct tracee *t, const struct user_regs_struct *base, uint64_t at, int step, long nr, long a1, long a2, long a3,
                 long a4, long a5, long a6)
{
    struct user_regs_struct r = *base;
    r.rax = (uint64_t)nr;
    r.orig_rax = ~0ull;
    r.rdi = (uint64_t)a1;
    r.rsi = (uint64_t)a2;
    r.rdx = (uint64_t)a3;
    r.r10 = (uint64_t)a4;
    r.r8 = (uint64_t)a5;
    r.r9 = (uint64_t)a6;
    r.rip = at;
    struct user_regs_struct set = r;
    long req = step ? PTRACE_SINGLESTEP : PTRACE_CONT;
    /* a step requested while the tracee is stopped inside a system call (its exec) is
     * reported when that call returns, before any instruction: then step again */
    for (int tries = 0; tries < 3; tries++) {
        if (tl_sys4(SYS_ptrace, PTRACE_SETREGS, t->pid, 0, &set) != 0) return GONE;
        if (tl_sys4(SYS_ptrace, req, t->pid, 0, 0) != 0 || !wait_trap(t, req)) return GONE;
        if (tl_sys4(SYS_ptrace, PTRACE_GETREGS, t->pid, 0, &r) != 0) return GONE;
        if (!step || r.rip != at) break;
    }
    if (step && r.rip != at + 2) return GONE;
    return (long)r.rax;
}

static int mem_read(struct tracee *t, uint64_t addr, void *buf, size_t n)
{
    return tl_sys4(SYS_pread64, t->mem, buf, n, addr) == (long)n;
}
static int mem_write(struct tracee *t, uint64_t addr, const void *buf, size_t n)
{
    return tl_sys4(SYS_pwrite64, t->mem, buf, n, addr) == (long)n;
}

/* n bytes at addr set to 0 (through t->page) */
static int mem_clear(struct tracee *t, uint64_t addr, size_t n)
{
    for (size_t i = 0; i < sizeof t->page; i++) t->page[i] = 0;
    for (size_t k; n; n -= k, addr += k) {
        k = n < sizeof t->page ? n : sizeof t->page;
        if (!mem_write(t, addr, t->page, k)) return 0;
    }
    return 1;
}

/* word k of the initial stack at sp, through a window of t->page: a read fills it from
 * that word to its page's end */
struct window {
    uint64_t k, n; /* words k .. k+n-1 are in t->page */
};
static int stack_word(struct tracee *t, uint64_t sp, uint64_t k, uint64_t *out, struct window *w)
{
    if (k < w->k || k >= w->k + w->n) {
        uint64_t at = sp + 8 * k, n = 4096 - (at & 4095);
        if (!mem_read(t, at, t->page, n)) return 0;
        w->k = k;
        w->n = n / 8;
    }
    bcopy_(out, t->page + 8 * (k - w->k), 8);
    return 1;
}

/* the first `0f 05` in the vDSO's first two pages (every vDSO has one: the fallbacks of
 * its clock functions), 0 if none */
static uint64_t vdso_syscall(struct tracee *t, uint64_t vdso)
{
    if (!vdso || !mem_read(t, vdso, t->page, sizeof t->page)) return 0;
    for (unsigned i = 0; i + 1 < sizeof t->page; i++)
        if (t->page[i] == 0x0f && t->page[i + 1] == 0x05) return vdso + i;
    return 0;
}

static int setting_is(char *const *settings, const char *kv)
{
    for (char *const *s = settings; s && *s; s++) {
        size_t i = 0;
        while (kv[i] && (*s)[i] == kv[i]) i++;
        if (!kv[i] && !(*s)[i]) return 1;
    }
    return 0;
}

/* Loads the boot image into the tracee (stopped at its exec) and starts trapline there.
 * 1: started, registers restored; 0: failed (the caller kills the tracee: it must not
 * run unwatched). */
#define FAIL(step)                                                                                                                 \
    do {                                                                                                                           \
        t->why = (step);                                                                                                           \
        goto out;                                                                                                                  \
    } while (0)

/* The stub the helper writes into the boot block and starts in the program, with
 *   rdi = the block (struct tl_boot_args), rsi = the image's path, r12 = the span of its
 *   segments, r13 = its entry (offset), rsp = the top of the block:
 * it opens and maps the image (read+execute, as one mapping: tl_boot_map does the rest),
 * stores the descriptor in the block (the boot closes it) and jumps to the image's entry,
 * which ends at int3 with r12 = 1. A failure stops at int3 with r12 = 2 (open) or 3
 * (mmap), the error in rax. Position-independent; no stack. */
__asm__(".section .rodata\n"
        ".p2align 4\n"
        "tl_inject_stub:\n"
        "  mov %rdi, %r14\n"
        "  mov $257, %eax\n" /* openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC) */
        "  mov $-100, %rdi\n"
        "  mov $0x80000, %edx\n"
        "  xor %r10d, %r10d\n"
        "  syscall\n"
        "  test %rax, %rax\n"
        "  js 1f\n"
        "  mov %rax, " TL_STR(TL_BOOT_ARGS_FD) "(%r14)\n"
                                               "  mov %rax, %r8\n"
                                               "  mov $9, %eax\n" /* mmap(0, span, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) */
                                               "  xor %edi, %edi\n"
                                               "  mov %r12, %rsi\n"
                                               "  mov $5, %edx\n"
                                               "  mov $2, %r10d\n"
                                               "  xor %r9d, %r9d\n"
                                               "  syscall\n"
                                               "  cmp $-4096, %rax\n"
                                               "  ja 2f\n"
                                               "  add %r13, %rax\n"
                                               "  mov %r14, %rdi\n"
                                               "  jmp *%rax\n"
                                               "1: mov $2, %r12d\n"
                                               "  int3\n"
                                               "2: mov $3, %r12d\n"
                                               "  int3\n"
                                               "tl_inject_stub_end:\n"
                                               ".text\n");
_Static_assert(SYS_openat == 257 && SYS_mmap == 9 && O_CLOEXEC == 0x80000 && AT_FDCWD == -100 && PROT_READ + PROT_EXEC == 5 &&
                   MAP_PRIVATE == 2,
               "tl_inject_stub's numbers");
extern const uint8_t tl_inject_stub[] __attribute__((visibility("hidden")));
extern const uint8_t tl_inject_stub_end[] __attribute__((visibility("hidden")));

/* Copies the image's path and the settings into t->blk (before the armed program may go
 * on and change or free them). 0 if they do not fit. */
static int prepare(struct tracee *t, const char *boot, char *const *settings)
{
    size_t n = 0, off;
    for (char *const *s = settings; s && *s; s++) n++;
    off = sizeof(struct tl_boot_args) + (n + 1) * 8;
    for (char *const *s = settings; s && *s; s++) {
        size_t l = slen(*s) + 1;
        if (off + l > sizeof t->blk) return 0;
        bcopy_(t->blk + off, *s, l);
        off += l;
    }
    size_t bl = slen(boot) + 1;
    if (off + bl + 16 + (size_t)(tl_inject_stub_end - tl_inject_stub) > sizeof t->blk) return 0; /* and the stub */
    bcopy_(t->blk + off, boot, bl);
    t->nset = (uint32_t)n;
    t->used = (uint32_t)(off + bl);
    t->vdso_off = setting_is(settings, "TRAPLINE_VDSO=off");
    t->caps_held = setting_is(settings, "TRAPLINE_CAPS=drop");
    t->caps = t->caps_held || setting_is(settings, "TRAPLINE_CAPS=dropped");
    return 1;
}

/* The boot image's extent and entry, from its file: read by the helper while the program
 * execs (off the path of the exec); an error is said if the exec happens. */
static void read_image(struct tracee *t, const char *boot)
{
    t->img_bad = 1;
    long fd = tl_sys4(SYS_openat, AT_FDCWD, boot, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return;
    Elf64_Ehdr eh;
    Elf64_Phdr ph[16];
    int ok = tl_sys4(SYS_pread64, fd, &eh, sizeof eh, 0) == (long)sizeof eh && eh.e_phnum <= 16 && eh.e_ident[0] == 0x7f &&
        eh.e_ident[1] == 'E' && eh.e_machine == EM_X86_64 &&
        tl_sys4(SYS_pread64, fd, ph, eh.e_phnum * sizeof ph[0], eh.e_phoff) == (long)(eh.e_phnum * sizeof ph[0]);
    tl_sys1(SYS_close, fd);
    t->img_bad = 2;
    if (!ok) return;
    uint64_t span = 0;
    for (int i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr + ph[i].p_memsz > span) span = ph[i].p_vaddr + ph[i].p_memsz;
    t->img_span = (span + 4095) & ~4095ull;
    t->img_entry = eh.e_entry;
    t->img_bad = 0;
}

/* Builds the boot block in t->blk as it will be at address area in the program: args, the
 * settings' pointers, the strings (the image's path last), and, with_stub, the stub after
 * them (at the next 16 bytes). unmap: TL_BOOT_AREA when the block was mapped for the boot
 * (which unmaps it), 0 when it is on the program's stack; drop: then, the bytes from area
 * to the top of the boot's stack (the boot drops their pages). Its length, 0 if it does
 * not fit. */
static uint32_t block(struct tracee *t, uint64_t area, uint64_t sp, int with_stub, uint64_t unmap, uint64_t drop,
                      struct tl_boot_args *a)
{
    struct tl_boot_args b = {TL_BOOT_MAGIC, TL_BOOT_VERSION, sp, 0, 0, -1, 0, unmap, drop};
    uint32_t stub_off = (t->used + 15) & ~15u, stub_len = (uint32_t)(tl_inject_stub_end - tl_inject_stub);
    size_t off = sizeof b + ((size_t)t->nset + 1) * 8;
    b.settings = area + sizeof b;
    for (uint32_t i = 0; i < t->nset; i++) {
        uint64_t ptr = area + off;
        bcopy_(t->blk + sizeof b + i * 8, &ptr, 8);
        off += slen((const char *)t->blk + off) + 1;
    }
    b.self = area + off;
    uint64_t nul = 0;
    bcopy_(t->blk + sizeof b + t->nset * 8, &nul, 8);
    bcopy_(t->blk, &b, sizeof b);
    uint32_t len = t->used;
    if (with_stub) {
        if (stub_off + stub_len > sizeof t->blk) return 0; /* prepare() leaves room: not reached */
        bcopy_(t->blk + stub_off, tl_inject_stub, stub_len);
        len = stub_off + stub_len;
    }
    *a = b;
    return len;
}

/* The vDSO's address and the address of its entry in the auxiliary vector of the initial
 * stack at sp (0, 0 if it has none). 0 if the stack cannot be read. */
static int auxv_vdso(struct tracee *t, uint64_t sp, uint64_t *vdso, uint64_t *slot)
{
    struct window w = {0, 0};
    uint64_t argc, k, v;
    if (!stack_word(t, sp, 0, &argc, &w)) return 0;
    for (k = argc + 2; stack_word(t, sp, k, &v, &w) && v; k++) {} /* past envp's NULL */
    for (k++;; k += 2) {
        uint64_t type, val;
        if (!stack_word(t, sp, k, &type, &w) || !stack_word(t, sp, k + 1, &val, &w)) return 0;
        if (!type) return 1;
        if (type == 33 /* AT_SYSINFO_EHDR */) {
            *vdso = val;
            *slot = sp + 8 * k;
        }
    }
}

static int inject(struct tracee *t)
{
    const char *boot = (const char *)t->blk + t->used - 1;
    while (boot > (const char *)t->blk && boot[-1]) boot--; /* the last string: the image's path */
    struct user_regs_struct saved;
    if (tl_sys4(SYS_ptrace, PTRACE_GETREGS, t->pid, 0, &saved) != 0) return 0;
    uint64_t sp = saved.rsp, vdso = 0, vdso_slot = 0;
    int auxv_read = 0;
    /* the auxiliary vector on the initial stack (argc, argv's and envp's pointers and the
     * pairs after them: read a page at a time, one read for most programs; the strings
     * lie above): the vDSO, a syscall instruction to use, or the entry to hide. Read only
     * when needed: with --vdso off, or where the block cannot be on the stack */
#define READ_AUXV()                                                                                                                \
    do {                                                                                                                           \
        if (!auxv_read && !auxv_vdso(t, sp, &vdso, &vdso_slot)) return 0;                                                          \
        auxv_read = 1;                                                                                                             \
    } while (0)
    if (t->vdso_off) READ_AUXV();
    if (t->img_bad) {
        if (t->img_bad == 1)
            tl_error("cannot open the boot image", boot, 0);
        else
            tl_error("the boot image", boot, "is not an x86-64 ELF file");
        t->why = "reading the boot image";
        return 0;
    }
    uint64_t span = t->img_span;
    struct {
        uint64_t e_entry;
    } eh = {t->img_entry};

    int ok = 0;
    long area = -1, base = -1, ifd = -1;
    uint32_t stub_len = (uint32_t)(tl_inject_stub_end - tl_inject_stub), len = 0;
    struct tl_boot_args a;
    /* The first way, without a stop: the block on the program's own stack, under the
     * boot's 64 KiB stack, just below the page of its initial stack pointer (the kernel
     * maps 128 KiB of stack below what exec put there, less the part of its tables that
     * lie below that mapping's first page: a write to the block's lowest byte succeeds
     * only inside that mapping, and then the whole block is in it; one or two pages for
     * most programs' settings leave room), and the stub over the first instruction (the entry
     * of its dynamic loader, or its own), its bytes put back at the end (the boot drops
     * the block's pages: sud/boot.S). Nothing is mapped, no system call is stepped: the
     * program runs the stub at once. */
    uint8_t orig[128];
    uint64_t at = 0, poked = 0;
    int stub = 1, on_stack = 0;
    uint64_t top = sp & ~4095ull, blen = (t->used + 4095) & ~4095u; /* the block's pages, under the boot's stack */
    if (stub_len <= sizeof orig && sp > TL_BOOT_STACK + blen + 4096) {
        area = (long)(top - TL_BOOT_STACK - blen);
        len = block(t, (uint64_t)area, sp, 0, 0, top - (uint64_t)area, &a);
        if (len && mem_read(t, saved.rip, orig, stub_len) && mem_write(t, (uint64_t)area, t->blk, len)) {
            if (mem_write(t, saved.rip, tl_inject_stub, stub_len)) {
                poked = stub_len;
                on_stack = 1;
            } else { /* what a short write changed goes back, and the settings from the stack */
                mem_write(t, saved.rip, orig, stub_len);
                mem_clear(t, (uint64_t)area, len);
            }
        }
    }
    if (!on_stack) {
        /* The second way: a block mapped by a system call made from the vDSO's `syscall`,
         * single-stepped (without a vDSO, two bytes at the entry, put back), read+write+
         * execute: it holds the stub. Where that is refused (no W+X memory), a read+write
         * block and two more steps */
        READ_AUXV();
        at = vdso_syscall(t, vdso);
        if (!at) {
            at = saved.rip;
            const uint8_t sc[2] = {0x0f, 0x05};
            if (!mem_read(t, at, orig, 2) || !mem_write(t, at, sc, 2)) return 0;
            poked = 2;
        }
#define PRE(nr, a, b, c, d, e, f) tsys(t, &saved, at, 1, nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
        area = PRE(SYS_mmap, 0, TL_BOOT_AREA, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        stub = !(area < 0 && area > -4096) && area != GONE;
        if (!stub && area != GONE)
            area = PRE(SYS_mmap, 0, TL_BOOT_AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if ((area < 0 && area > -4096) || area == GONE) FAIL("mmap of the boot block");
        len = block(t, (uint64_t)area, sp, stub, TL_BOOT_AREA, 0, &a);
        if (!len || !mem_write(t, (uint64_t)area, t->blk, len)) FAIL("writing the boot block");
        if (!stub) {
            ifd = PRE(SYS_openat, AT_FDCWD, a.self, O_RDONLY | O_CLOEXEC, 0, 0, 0);
            if (ifd < 0) FAIL("opening the boot image in the program");
            /* the whole file, read+execute, in one mapping; the boot gives its data segments
             * their own protection itself (tl_boot_map): fewer stops of the program */
            base = PRE(SYS_mmap, 0, span, PROT_READ | PROT_EXEC, MAP_PRIVATE, ifd, 0);
            if (base < 0 && base > -4096) FAIL("mapping the boot image");
            int64_t fd64 = ifd; /* closed by the boot, in the program */
            if (!mem_write(t, (uint64_t)area + offsetof(struct tl_boot_args, fd), &fd64, 8)) FAIL("writing the boot block");
        }
#undef PRE
        if (poked) {
            mem_write(t, saved.rip, orig, 2);
            poked = 0;
        }
    }

    /* --vdso off: the program is not told where the vDSO is (AT_IGNORE), so its clock
     * calls become real system calls */
    uint64_t hidden = 0;
    if (vdso_slot && t->vdso_off) {
        /* the entry goes, as on a kernel without a vDSO: the pairs after it move down one
         * (the vector keeps its AT_NULL end) */
        uint64_t pair[2];
        for (uint64_t q = vdso_slot;; q += 16) {
            if (!mem_read(t, q + 16, pair, 16) || !mem_write(t, q, pair, 16)) FAIL("hiding the vDSO");
            if (!pair[0]) break;
        }
        hidden = vdso;
    }
    if (hidden && !mem_write(t, (uint64_t)area + offsetof(struct tl_boot_args, vdso_hidden), &hidden, 8)) FAIL("hiding the vDSO");
    /* start trapline (through the stub, which maps the image first): its entry relocates
     * the image, runs tl_start and stops at int3 */
    {
        struct user_regs_struct r = saved;
        r.rdi = (uint64_t)area;
        r.rsp = on_stack ? top : (uint64_t)area + TL_BOOT_AREA;
        r.orig_rax = ~0ull;
        if (stub) {
            r.rip = on_stack ? saved.rip : (uint64_t)area + ((t->used + 15) & ~15u);
            r.rsi = a.self;
            r.r12 = span;
            r.r13 = eh.e_entry;
        } else {
            r.rip = (uint64_t)base + eh.e_entry;
        }
        if (tl_sys4(SYS_ptrace, PTRACE_SETREGS, t->pid, 0, &r) != 0) FAIL("starting the boot image");
        if (tl_sys4(SYS_ptrace, PTRACE_CONT, t->pid, 0, 0) != 0 || !wait_trap(t, PTRACE_CONT)) FAIL("the boot image's start-up");
        struct user_regs_struct now;
        if (tl_sys4(SYS_ptrace, PTRACE_GETREGS, t->pid, 0, &now) != 0) FAIL("the boot image's start-up");
        if (now.r12 == 2) FAIL("opening the boot image in the program");
        if (now.r12 == 3) FAIL("mapping the boot image");
        if (now.r12 != 1) FAIL("the boot image's start-up");
        /* the program's registers as the kernel set them, but %gs: our per-thread block */
        r = saved;
        r.gs_base = now.gs_base;
        if (tl_sys4(SYS_ptrace, PTRACE_SETREGS, t->pid, 0, &r) != 0) FAIL("restoring the program's registers");
        if (poked) {
            /* the first instruction back (the boot dropped the block's pages) */
            if (!mem_write(t, saved.rip, orig, poked)) FAIL("restoring the program's first instruction");
            poked = 0;
        }
        ok = 1;
    }
out:
    if (poked) mem_write(t, saved.rip, orig, poked);
#undef READ_AUXV
    return ok;
}

/* After start-up, in a run whose launcher has a file capability (TRAPLINE_CAPS): 1 if
 * /proc/PID/status shows every capability set of the program empty (the boot dropped
 * them, sud/init.c); anything else (unreadable, a set not empty) is 0: it must not run. */
static int caps_gone(struct tracee *t)
{
    char path[40] = "/proc/", num[24];
    size_t k = 6;
    tl_fmt_u64(num, (uint64_t)t->pid, 10);
    for (const char *q = num; *q; q++) path[k++] = *q;
    for (const char *q = "/status"; *q; q++) path[k++] = *q;
    path[k] = 0;
    long fd = tl_sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return 0;
    long n = 0, r;
    while (n < (long)sizeof t->page - 1 && (r = tl_sys3(SYS_read, fd, t->page + n, sizeof t->page - 1 - (size_t)n)) > 0) n += r;
    tl_sys1(SYS_close, fd);
    t->page[n] = 0;
    const char sets[] = "InhPrmEffAmb"; /* CapInh: CapPrm: CapEff: CapAmb: */
    int seen = 0;
    for (const char *l = (const char *)t->page; *l;) {
        for (int i = 0; i < 4; i++) {
            const char *s = sets + 3 * i;
            if (l[0] != 'C' || l[1] != 'a' || l[2] != 'p' || l[3] != s[0] || l[4] != s[1] || l[5] != s[2] || l[6] != ':') continue;
            const char *v = l + 7;
            while (*v == '\t' || *v == ' ') v++;
            if (*v == '\n' || !*v) return 0;
            for (; *v && *v != '\n'; v++)
                if (*v != '0') return 0;
            seen |= 1 << i;
        }
        while (*l && *l != '\n') l++;
        if (*l) l++;
    }
    return seen == 15;
}

/* ---- the side that execs ----------------------------------------------------------- */

/* long clone_fn(flags, stack_top, fn, arg): clone onto a stack of our making; the child
 * runs fn(arg) and exits with its result. (A copy of the caller without the copy: the
 * helpers share the caller's memory, CLONE_VM, so starting them copies no page table.) */
__asm__(".text\n"
        ".p2align 4\n"
        "tl_inject_clone_fn:\n"
        "  push %r12\n"
        "  push %r13\n"
        "  mov %rdx, %r12\n"
        "  mov %rcx, %r13\n"
        "  mov $56, %eax\n" /* __NR_clone */
        "  xor %edx, %edx\n"
        "  xor %r10d, %r10d\n"
        "  xor %r8d, %r8d\n"
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jz 1f\n"
        "  pop %r13\n"
        "  pop %r12\n"
        "  ret\n"
        "1: xor %ebp, %ebp\n"
        "  mov %r13, %rdi\n"
        "  call *%r12\n"
        "  mov %rax, %rdi\n"
        "  mov $60, %eax\n" /* __NR_exit */
        "  syscall\n"
        "  ud2\n");
_Static_assert(SYS_clone == 56 && SYS_exit == 60, "tl_inject_clone_fn's numbers");
long tl_inject_clone_fn(unsigned long flags, uint64_t stack_top, long (*fn)(void *), void *arg)
    __attribute__((visibility("hidden")));

#define HELPER_STACK (256 * 1024) /* holds struct tracee (the boot block, ~80 KiB) */
struct spawn {
    int tid, up[2], down[2];
    int32_t h2; /* the tracer's pid (or -errno), set by the first helper */
    const char *boot;
    char *const *settings;
    uint64_t stack2;
};

/* The helper's end: its stack (in memory it may share with the program's parent) goes,
 * then the helper; nothing touches the stack in between. */
static __attribute__((noreturn)) void leave(uint64_t stack, long code)
{
    __asm__ volatile("syscall\n\t"
                     "mov %[code], %%rdi\n\t"
                     "mov %[ex], %%eax\n\t"
                     "syscall\n\t"
                     "ud2" ::"a"((long)SYS_munmap),
                     "D"(stack), "S"((long)HELPER_STACK), [code] "r"(code), [ex] "i"(SYS_exit_group)
                     : "rcx", "r11", "memory");
    __builtin_unreachable();
}

static int group_stop_sig(int sig) { return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU; }

/* The tracer: attaches to the exec'ing thread, waits for its exec and enters the new
 * program. Runs this file's code only, with every signal blocked. */
static long run_helper(void *arg)
{
    struct spawn *s = arg;
    uint64_t stack = s->stack2;
    int tid = s->tid, up = s->up[1], down = s->down[0];
    tl_sys1(SYS_close, s->up[0]);
    tl_sys1(SYS_close, s->down[1]);
    struct tracee t;
    t.pid = tid;
    t.mem = -1;
    t.gone = 0;
    t.why = 0;
    t.npending = 0;
    int fits = prepare(&t, s->boot, s->settings); /* before the caller goes on */
    tl_sys0(SYS_setsid); /* not in the program's process group */
    /* seized at once where nothing restricts ptrace; under Yama's ptrace_scope 1 only
     * once the caller has named us its tracer (PR_SET_PTRACER): refused (EPERM), we ask
     * for it ("?") and try again on its "go". The launcher about to make a
     * capability ambient (TRAPLINE_CAPS=drop): if we die, it dies, from now on (the
     * program must never run holding it untraced). Not for an exec from inside a run
     * (=dropped): it holds none, and goes on if its exec fails */
    long opts = T_O_TRACEEXEC | (t.caps_held ? 0x100000 /* PTRACE_O_EXITKILL */ : 0);
    long e = fits ? tl_sys4(SYS_ptrace, PTRACE_SEIZE, tid, 0, opts) : -E2BIG;
    if (e == -EPERM) {
        char go = 0;
        tl_sys3(SYS_write, up, "?", 1);
        if (tl_sys3(SYS_read, down, &go, 1) != 1) leave(stack, 1);
        e = tl_sys4(SYS_ptrace, PTRACE_SEIZE, tid, 0, opts);
    }
    char ack = e ? (char)-e : 'A';
    tl_sys3(SYS_write, up, &ack, 1);
    if (e) leave(stack, 1);
    /* the image's path: the last string of the block */
    const char *boot = (const char *)t.blk + t.used - 1;
    while (boot > (const char *)t.blk && boot[-1]) boot--;
    read_image(&t, boot);
    for (;;) {
        int st = 0;
        long w = tl_sys4(SYS_wait4, -1, &st, T_WALL, 0);
        if (w == -EINTR) continue;
        if (w < 0 || WIFEXITED(st) || WIFSIGNALED(st)) leave(stack, 0);
        if (!WIFSTOPPED(st)) continue;
        int ev = st >> 16, sig = WSTOPSIG(st);
        if (ev == T_EVENT_STOP) {
            /* a group-stop (SIGSTOP and the like) is kept, as without a tracer; any other
             * event stop (the one after SIGCONT) goes on */
            tl_sys4(SYS_ptrace, group_stop_sig(sig) ? PTRACE_LISTEN : PTRACE_CONT, w, 0, 0);
            continue;
        }
        if (ev != T_EVENT_EXEC) {
            tl_sys4(SYS_ptrace, PTRACE_CONT, w, 0, sig == SIGTRAP ? 0 : sig);
            continue;
        }
        /* the exec happened: the thread is now the process's only one, with its pid. If
         * we die from here on, it dies too (it must not run half set up) */
        tl_sys4(SYS_ptrace, PTRACE_SETOPTIONS, w, 0, T_O_TRACEEXEC | 0x100000 /* PTRACE_O_EXITKILL */);
        t.pid = (int)w;
        char path[32] = "/proc/";
        char num[24];
        tl_fmt_u64(num, (uint64_t)w, 10);
        size_t k = 6;
        for (const char *q = num; *q; q++) path[k++] = *q;
        for (const char *q = "/mem"; *q; q++) path[k++] = *q;
        path[k] = 0;
        t.mem = (int)tl_sys4(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC, 0);
        int ok = t.mem >= 0 && inject(&t);
        if (ok && t.caps && !caps_gone(&t)) {
            ok = 0;
            t.why = "checking that no capability is left (/proc/PID/status)";
        }
        if (!ok) {
            if (t.gone) leave(stack, 0); /* killed meanwhile, or its start-up said why and exited */
            /* never let it run unwatched */
            tl_error("cannot start in the new program:", t.why ? t.why : "opening its memory", "failed; stopping it");
            tl_sys2(SYS_kill, w, SIGKILL);
            leave(stack, 1);
        }
        tl_sys4(SYS_ptrace, PTRACE_DETACH, w, 0, t.npending ? t.pending[0] : 0);
        for (int i = 1; i < t.npending; i++) tl_sys3(SYS_tgkill, w, w, t.pending[i]);
        leave(stack, 0);
    }
}

static long start_helper(void *arg)
{
    struct spawn *s = arg;
    /* the tracer: shares the memory, which it keeps (the old image) once the caller execs */
    long h2 = tl_inject_clone_fn(CLONE_VM, s->stack2 + HELPER_STACK, run_helper, s);
    __atomic_store_n(&s->h2, (int32_t)h2, __ATOMIC_RELEASE); /* the caller reads it once we are gone */
    return 0;
}

/* waits until process pidfd (or, without one, the writer of fd) has exited */
static void await_exit(int pidfd, int fd)
{
    if (pidfd >= 0) {
        struct {
            int fd;
            short events, revents;
        } p = {pidfd, 1 /* POLLIN */, 0};
        while (tl_sys3(SYS_poll, &p, 1, -1) == -EINTR) {}
    } else {
        char b;
        for (long r; (r = tl_sys3(SYS_read, fd, &b, 1)) > 0 || r == -EINTR;) {}
    }
}

/* Arms the next execve of the calling thread: a helper is tracing it when this returns
 * 0 (else -errno, nothing left behind). Call tl_inject_disarm if the execve fails. */
int tl_inject_arm(struct tl_inject *h, const char *boot, char *const *settings)
{
    struct spawn s = {.boot = boot, .settings = settings};
    h->helper = -1;
    h->pidfd = -1;
    h->fd = -1;
    /* no handler of the program's runs meanwhile (a read interrupted would lose the
     * helper), and the helpers start with every signal blocked */
    uint64_t all = ~0ull, old = 0;
    tl_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
    long stacks =
        tl_sys6(SYS_mmap, 0, 2 * HELPER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    long e = stacks < 0 && stacks > -4096 ? stacks : 0;
    if (!e) e = tl_sys2(SYS_pipe2, s.up, O_CLOEXEC);
    if (!e) {
        e = tl_sys2(SYS_pipe2, s.down, O_CLOEXEC);
        if (e) {
            tl_sys1(SYS_close, s.up[0]);
            tl_sys1(SYS_close, s.up[1]);
        }
    }
    if (e) {
        if (!(stacks < 0 && stacks > -4096)) tl_sys2(SYS_munmap, stacks, 2 * HELPER_STACK);
        tl_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, 8);
        return (int)e;
    }
    int sub = 0;
    tl_sys2(SYS_prctl, PR_GET_CHILD_SUBREAPER, &sub);
    if (sub) tl_sys2(SYS_prctl, PR_SET_CHILD_SUBREAPER, 0); /* the orphan must not come back to us */
    s.tid = (int)tl_sys0(SYS_gettid);
    s.h2 = -1;
    s.stack2 = (uint64_t)stacks + HELPER_STACK;
    /* the first helper only starts the second and exits, so that the tracer is an
     * orphan, never a child of the program. We sleep once, until the tracer says it has
     * seized us ("A"), or needs our "go" first ("?", Yama), or why it cannot (an errno);
     * end of file if it was not started. The first helper is reaped then (it exits at
     * once after the clone): the tracer's pid is in s.h2 */
    long h1 = tl_inject_clone_fn(CLONE_VM, (uint64_t)stacks + HELPER_STACK, start_helper, &s);
    tl_sys1(SYS_close, s.up[1]);
    tl_sys1(SYS_close, s.down[0]);
    char ack = 0;
    if (h1 > 0 && tl_sys3(SYS_read, s.up[0], &ack, 1) != 1) ack = 0;
    int32_t h2 = -1;
    if (h1 > 0) {
        while (tl_sys4(SYS_wait4, h1, 0, (long)T_WCLONE, 0) == -EINTR) {}
        h2 = __atomic_load_n(&s.h2, __ATOMIC_ACQUIRE);
    }
    tl_sys2(SYS_munmap, stacks, HELPER_STACK); /* the first helper's (it is gone) */
    if (sub) tl_sys2(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1);
    if (h2 > 0) {
        h->pidfd = (int)tl_sys2(SYS_pidfd_open, h2, 0);
        if (ack == '?') {
            tl_sys5(SYS_prctl, 0x59616d61 /* PR_SET_PTRACER (Yama) */, h2, 0, 0, 0);
            tl_sys3(SYS_write, s.down[1], "g", 1);
            if (tl_sys3(SYS_read, s.up[0], &ack, 1) != 1) ack = 0;
        }
    } else if (h1 > 0) {
        tl_sys2(SYS_munmap, s.stack2, HELPER_STACK); /* no tracer was started */
    }
    tl_sys1(SYS_close, s.down[1]);
    if (ack != 'A') {
        /* no tracer: make sure it is gone (it unmaps its own stack) */
        if (h2 > 0) {
            tl_sys2(SYS_kill, h2, SIGKILL);
            await_exit(h->pidfd, s.up[0]);
        }
        if (h->pidfd >= 0) tl_sys1(SYS_close, h->pidfd);
        tl_sys1(SYS_close, s.up[0]);
        h->pidfd = -1;
        tl_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, 8);
        return h1 < 0 ? (int)h1 : ack > 0 ? -(int)ack : -EPERM;
    }
    h->helper = h2;
    h->fd = s.up[0];
    tl_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, 8);
    return 0;
}

/* After a failed execve: the helper goes, and with it the tracing (the kernel detaches
 * a tracee when its tracer exits); returns once it has exited. */
void tl_inject_disarm(struct tl_inject *h)
{
    if (h->helper <= 0) return;
    tl_sys2(SYS_kill, h->helper, SIGKILL);
    await_exit(h->pidfd, h->fd);
    if (h->pidfd >= 0) tl_sys1(SYS_close, h->pidfd);
    tl_sys1(SYS_close, h->fd);
    h->helper = -1;
}

/* ---- what an exec would run ------------------------------------------------------ */

/* Examines the file execveat(dirfd, path, ..., flags) would run (path NULL with
 * AT_EMPTY_PATH: dirfd itself), by raw system calls: the launcher and sud/exec.c decide
 * with it which programs are entered and how. */
struct tl_target tl_target_examine(long dirfd, const char *path, long flags)
{
    struct tl_target t = {0, 0, 0, 0, 0, 0, 0, 0};
    long fd =
        path ? tl_sys4(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC | (flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0), 0) : -1;
    long use = path ? fd : dirfd;
    if (use < 0) return t;
    struct {
        uint64_t a[18];
    } st;
    if (tl_sys2(SYS_fstat, use, &st) == 0) {
        t.readable = 1;
        t.dev = st.a[0];
        t.ino = st.a[1];
        uint32_t mode = (uint32_t)st.a[3];
        t.secure = (mode & 04000) || ((mode & 02000) && (mode & 0010));
        char cap[32];
        if (!t.secure && tl_sys4(SYS_fgetxattr, use, "security.capability", cap, sizeof cap) > 0) t.secure = 1;
    }
    Elf64_Ehdr eh;
    if (t.readable && tl_sys4(SYS_pread64, use, &eh, sizeof eh, 0) >= 20 && eh.e_ident[0] == 0x7f && eh.e_ident[1] == 'E' &&
        eh.e_ident[2] == 'L' && eh.e_ident[3] == 'F') {
        t.foreign = eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64;
        if (!t.foreign && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum <= 64) {
            Elf64_Phdr ph[64];
            if (tl_sys4(SYS_pread64, use, ph, eh.e_phnum * sizeof ph[0], eh.e_phoff) == (long)(eh.e_phnum * sizeof ph[0])) {
                t.is_static = 1;
                for (int i = 0; i < eh.e_phnum; i++) {
                    if (ph[i].p_type != PT_INTERP) continue;
                    t.is_static = 0;
                    /* a hook is loaded by glibc's loader only (sud/boot.c) */
                    char interp[256];
                    uint64_t n = ph[i].p_filesz < sizeof interp ? ph[i].p_filesz : sizeof interp - 1;
                    long got = tl_sys4(SYS_pread64, use, interp, n, ph[i].p_offset);
                    interp[got > 0 ? got : 0] = 0;
                    const char *base = interp;
                    for (const char *q = interp; *q; q++)
                        if (*q == '/') base = q + 1;
                    /* musl's: no dlmopen (other loaders are told apart when they run) */
                    static const char musl[] = "ld-musl-";
                    int k = 0;
                    while (musl[k] && base[k] == musl[k]) k++;
                    t.other_loader = musl[k] == 0;
                }
            }
        }
    }
    if (fd >= 0) tl_sys1(SYS_close, fd);
    return t;
}
