/* Start-up: runs as a constructor of the preloaded libtrapline.so, before the program's
 * main and before the constructors of the libraries it loads after us. The top of the
 * layers: it sets up core/, lazy/ and sud/ in order, then switches SUD on. */
#include "sud/sud.h"
#include <link.h>
#include <elf.h>
#include <sys/auxv.h>
#include <errno.h>
#include <fcntl.h>


#define CPUID_LEAF_FEATURES7 7 /* structured extended features (subleaf 0) */
#define CPUID7_EBX_BMI2 (1u << 8)
#define CPUID7_ECX_OSPKE (1u << 4) /* protection keys, enabled by the kernel (CR4.PKE) */
#define CPUID7_ECX_SHSTK (1u << 7) /* CET shadow stack */

#ifndef TL_BOOT
#include <sys/platform/x86.h>
#pragma weak __x86_get_cpuid_feature_leaf /* glibc 2.33 and later */
#endif

/* cpuid leaf 7 (subleaf 0): ebx, ecx. A cpuid costs a trap to the hypervisor in a VM
 * (~4 us here, as much as 30 system calls): the preloaded library reads the copy glibc's
 * loader made at its start (raw bits, as the instruction returns them). */
static void cpu_leaf7(unsigned *ebx, unsigned *ecx)
{
#ifndef TL_BOOT
    if (__x86_get_cpuid_feature_leaf) {
        *ebx = CPU_FEATURE_PRESENT(BMI2) ? CPUID7_EBX_BMI2 : 0;
        *ecx = (CPU_FEATURE_PRESENT(OSPKE) ? CPUID7_ECX_OSPKE : 0) | (CPU_FEATURE_PRESENT(SHSTK) ? CPUID7_ECX_SHSTK : 0);
        return;
    }
#endif
    unsigned a, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(*ebx), "=c"(*ecx), "=d"(d) : "a"(CPUID_LEAF_FEATURES7), "c"(0));
}

/* our executable range: the PF_X segment of this image holding tl_fast_entry, read from
 * our own ELF header (the same in the preloaded library and the boot image) */
extern const ElfW(Ehdr) __ehdr_start HIDDEN;
static void find_self(void)
{
    uint64_t base = (uint64_t)&__ehdr_start, me = (uint64_t)tl_fast_entry;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + __ehdr_start.e_phoff);
    for (int i = 0; i < __ehdr_start.e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X)) continue;
        uint64_t lo = base + ph[i].p_vaddr, hi = lo + ph[i].p_memsz;
        if (me >= lo && me < hi) {
            tl_text_lo = lo & ~4095ull;
            tl_text_hi = (hi + 4095) & ~4095ull;
            return;
        }
    }
}

static void find_vdso(void)
{
    uint64_t base = tl_auxv_get(AT_SYSINFO_EHDR);
    if (!base) return;
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + eh->e_phoff);
    uint64_t lo = ~0ull, hi = 0, bias = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD) {
            if (lo == ~0ull) bias = base - ph[i].p_vaddr;
            if (ph[i].p_vaddr < lo) lo = ph[i].p_vaddr;
            if (ph[i].p_vaddr + ph[i].p_memsz > hi) hi = ph[i].p_vaddr + ph[i].p_memsz;
        }
    if (hi) {
        tl_vdso_lo = (lo + bias) & ~4095ull;
        tl_vdso_hi = (hi + bias + 4095) & ~4095ull;
    }
}

static void warn(const char *a, const char *b, const char *c)
{
    if (!tl_cfg.quiet) tl_error(a, b, c);
}

static int start_note; /* the no-protection-keys note is due */

/* core/ reaches the layers above only through these (core/core.h) */
static void fill_upcalls(void)
{
    tl_up.learn = tl_learn;
    tl_up.code_changing = tl_jit_invalidate;
    tl_up.code_mapped = tl_plan_apply;
    tl_up.emulate = tl_sud_emulate;
    tl_up.null_call = tl_raise_null_call;
    tl_up.app_sud_check = tl_app_sud_check;
    tl_up.sigsys_noreturn = tl_signals_sigsys_noreturn;
    tl_up.i386_perform = tl_i386_perform_args;
    tl_up.i386_needs_frame = tl_i386_needs_frame;
}

/* vm.mmap_min_addr as text ("?" if unreadable) into buf[24]; its value, or -1 */
static long mmap_min_addr(char *buf)
{
    buf[0] = '?';
    buf[1] = 0;
    long fd = tl_sys4(SYS_openat, AT_FDCWD, "/proc/sys/vm/mmap_min_addr", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    long n = tl_sys3(SYS_read, fd, buf, 23);
    tl_sys1(SYS_close, fd);
    if (n <= 0) {
        buf[0] = '?';
        buf[1] = 0;
        return -1;
    }
    buf[n] = 0;
    long v = 0;
    for (char *p = buf; *p; p++) {
        if (*p == '\n')
            *p = 0;
        else if (*p >= '0' && *p <= '9')
            v = v * 10 + (*p - '0');
    }
    return v;
}

/* TRAPLINE_CAPS (a launcher with a file capability, trapline setup): every capability
 * goes, permitted, effective, inheritable and ambient, and that is checked; the helper
 * checks it again from outside before the program runs (sud/inject.c). */
static void drop_caps(void)
{
    struct {
        uint32_t version;
        int pid;
    } h = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
    uint32_t d[6] = {0, 0, 0, 0, 0, 0}; /* effective, permitted, inheritable; twice */
    tl_sys2(SYS_capset, &h, d);
    tl_sys5(SYS_prctl, 47 /* PR_CAP_AMBIENT */, 4 /* PR_CAP_AMBIENT_CLEAR_ALL */, 0, 0, 0);
    for (int i = 0; i < 6; i++) d[i] = ~0u;
    if (tl_sys2(SYS_capget, &h, d) != 0 || (d[0] | d[1] | d[2] | d[3] | d[4] | d[5]) ||
        tl_sys5(SYS_prctl, 47, 1 /* PR_CAP_AMBIENT_IS_SET */, 17 /* CAP_SYS_RAWIO */, 0, 0) != 0)
        tl_die("cannot drop the launcher's capabilities", 0, 0);
}

/* a mapping below *arg (vm.mmap_min_addr) */
static int below(const struct tl_mapping *m, void *arg)
{
    if (m->start < *(uint64_t *)arg) {
        *(uint64_t *)arg = 0;
        return 1;
    }
    return 0;
}

/* Everything from reading the settings (tl_env) to SUD on: the preloaded library's
 * constructor and the boot image (sud/boot.c) both come here. */
void tl_start(void)
{
    fill_upcalls();
    tl_pid = (int)tl_sys0(SYS_getpid);
    if (tl_config_load()) tl_sys1(SYS_exit_group, TL_EXIT_SETUP);
    find_self();
    if (!tl_text_hi) tl_die("cannot locate its own code", 0, 0);
    find_vdso();
    tl_learn_init();
    tl_env_init();
    /* the mode first: the statistics segment records the one this process runs in */
    unsigned leaf7_ebx = 0, leaf7_ecx = 0;
    if (tl_cfg.mode == TL_MODE_LAZY) {
        cpu_leaf7(&leaf7_ebx, &leaf7_ecx);
        if (!(leaf7_ebx & CPUID7_EBX_BMI2)) { /* the fast path uses BMI2 shifts (flag-free) */
            warn("warning: this CPU lacks BMI2, which the rewritten fast path needs;", "running in SUD-only mode", 0);
            tl_cfg.mode = TL_MODE_SUD_ONLY;
            tl_env_set("TRAPLINE_MODE=sud-only");
        }
    }
    /* Page 0 must keep faulting on data reads. Only a protection key can make it
     * execute-only; without one the trampoline would be readable and a NULL read would
     * return sled bytes instead of crashing. Then the rewriting mode is used only when
     * asked for explicitly (TRAPLINE_ALLOW_NULL_READS=1). */
    int pkeys = 0, no_pkeys_note = 0;
    if (tl_cfg.mode == TL_MODE_LAZY) {
        /* asked of the kernel only where the CPU has them, on (OSPKE) */
        long k = leaf7_ecx & CPUID7_ECX_OSPKE ? tl_sys2(SYS_pkey_alloc, 0, 0) : -1;
        if (k >= 0) {
            tl_sys1(SYS_pkey_free, k);
            pkeys = 1;
        }
        if (!pkeys && !tl_cfg.allow_null_reads) {
            no_pkeys_note = 1;
            tl_cfg.mode = TL_MODE_SUD_ONLY;
            tl_env_set("TRAPLINE_MODE=sud-only"); /* exec'd programs: same mode, no repeat */
        }
    }
    int cap_sud = 0; /* exec'd in a run whose page 0 needed the launcher's capability */
    int cap_needed = 0; /* page 0 mapped here thanks to the launcher's capability */
    if (tl_cfg.caps == TL_CAPS_DROP) {
        /* the kernel mapped the program holding the capability: a segment of its own below
         * vm.mmap_min_addr would be page 0 for something other than the trampoline (its
         * exec would have failed without the capability) */
        char buf[24];
        long min = mmap_min_addr(buf);
        uint64_t lim = min > 0 ? (uint64_t)min : 0;
        if (lim && (tl_maps_each(below, &lim) < 0 || !lim)) { /* unreadable: refused too */
            drop_caps();
            tl_die("the program has a segment below vm.mmap_min_addr, which only the launcher's capability allowed;", "refused", 0);
        }
    }
    if (tl_cfg.mode == TL_MODE_LAZY && !tl_booted && (leaf7_ecx & CPUID7_ECX_SHSTK)) {
        /* a user shadow stack already on (a preloaded start after glibc enabled it): the
         * rewriting mode's entries return by jump, which it does not allow. Not at the
         * first instruction (an exec turns it off), nor on a CPU without one. */
        uint64_t shstk = 0;
        if (tl_sys2(SYS_arch_prctl, TL_ARCH_SHSTK_STATUS, &shstk) == 0 && (shstk & TL_ARCH_SHSTK_SHSTK)) {
            warn("note: the program runs with a user shadow stack, which the rewriting mode cannot keep;",
                 "running in sud-only mode", 0);
            tl_cfg.mode = TL_MODE_SUD_ONLY;
            tl_env_set("TRAPLINE_MODE=sud-only");
        }
    }
    if (tl_cfg.mode == TL_MODE_LAZY) {
        int e = tl_trampoline_map();
        char buf[24];
        if (e && tl_cfg.caps == TL_CAPS_DROPPED) {
            /* quietly: said once per run, below; no forced mode (the segment is lazy) */
            cap_sud = 1;
            tl_cfg.mode = TL_MODE_SUD_ONLY;
        } else if (e) {
            char err[24];
            mmap_min_addr(buf);
            tl_fmt_u64(err, (uint64_t)-e, 10);
            char what[96];
            size_t k = tl_put(what, sizeof what, 0, "(errno ");
            k = tl_put(what, sizeof what, k, err);
            k = tl_put(what, sizeof what, k, "; vm.mmap_min_addr = ");
            k = tl_put(what, sizeof what - 1, k, buf);
            tl_put(what, sizeof what, k, ")");
            warn("warning: cannot map the trampoline at address 0", what,
                 tl_cfg.caps ? "- running in SUD-only mode (every call trapped: complete but slower)"
                             : "- running in SUD-only mode (every call trapped: complete but slower). Fix: sysctl -w "
                               "vm.mmap_min_addr=0, or trapline setup (docs/security.md)");
            tl_cfg.mode = TL_MODE_SUD_ONLY;
            tl_env_set("TRAPLINE_MODE=sud-only");
        } else if (tl_cfg.caps == TL_CAPS_DROP && mmap_min_addr(buf) != 0) {
            cap_needed = 1; /* which the programs this one execs do not get */
        }
    }
    /* nothing after this point runs with a capability: files named by the settings
     * (statistics, plans, policies) are opened as the user alone */
    if (tl_cfg.caps) drop_caps();
    /* for the programs this one execs: they hold none (their helper need not take them
     * down with it, sud/inject.c); "dropped" if they cannot have page 0 */
    if (tl_cfg.caps == TL_CAPS_DROP) tl_env_set(cap_needed ? "TRAPLINE_CAPS=dropped" : "TRAPLINE_CAPS=");
    if (tl_stats_open()) tl_sys1(SYS_exit_group, TL_EXIT_SETUP);
    if (tl_sites_init()) tl_die("cannot allocate the site table", 0, 0);
    if (tl_plan_init()) tl_sys1(SYS_exit_group, TL_EXIT_SETUP);
    tl_special_init();
    if (tl_policy_init()) tl_sys1(SYS_exit_group, TL_EXIT_SETUP); /* before tl_cov_init: its numbers go to C */
    /* the main thread's block, and before it the pages core/nullargs.c needs, if any */
    int null_reads = tl_zero_mapped && !pkeys; /* --allow-null-reads: page 0 readable */
    uint64_t none = tl_tcb_reserve(null_reads ? TL_NULLARGS_NONE : 0);
    if (!none) tl_die("cannot allocate per-thread state", 0, 0);
    if (tl_nullargs_init(null_reads, null_reads ? none : 0))
        tl_die("cannot allocate the pages that keep pointer arguments into page 0 faulting", 0, 0);

    if (tl_stats) {
        if (tl_zero_mapped) tl_stats->flags |= TL_FLAG_ZERO_MAPPED;
        if (tl_plan_active) __atomic_or_fetch(&tl_stats->flags, TL_FLAG_PLAN, __ATOMIC_RELAXED);
        if (tl_zero_mapped) tl_stats->flags |= pkeys ? TL_FLAG_XONLY : TL_FLAG_NULL_READS;
        __atomic_or_fetch(&tl_stats->flags,
                          (tl_booted ? TL_FLAG_ENTERED : TL_FLAG_PRELOADED) | (tl_cfg.hook_skipped ? TL_FLAG_HOOK_SKIPPED : 0),
                          __ATOMIC_RELAXED);
    }
    tl_cov_init();
    if (cap_sud && !(tl_stats && (__atomic_fetch_or(&tl_stats->flags, TL_FLAG_CAP_SUD, __ATOMIC_RELAXED) & TL_FLAG_CAP_SUD)))
        warn("note: programs exec'd in this run run in sud-only mode:",
             "address 0 was mapped with the launcher's capability (trapline setup), which they do not get", 0);

    struct tl_tcb *t = tl_tcb_new();
    if (!t) tl_die("cannot allocate per-thread state", 0, 0);
    tl_tcb_install(t);
    tl_policy_start(t);
    if (tl_signals_install()) tl_die("cannot install signal handlers", 0, 0);
    tl_signals_adopt();
    tl_plan_apply(0, 0); /* eager: the plan's sites in every module mapped now */
    tl_active = 1;
    int e = tl_sud_enable(t);
    if (e) {
        tl_active = 0;
        tl_error("Syscall User Dispatch is not available (prctl:", e == -EINVAL ? "EINVAL)" : "error)",
                 "; refusing to run the program uninterposed. Run `trapline doctor` for details.");
        tl_sys1(SYS_exit_group, TL_EXIT_SETUP);
    }
    /* The hook is loaded with interception on: loading it runs the program's own code
     * (ld.so allocates with the program's malloc, whose first use calls brk and
     * getrandom), and those calls are the program's, counted as in a run without a hook.
     * The loader's and the hook's own calls are performed uncounted (tl_dispatch). */
#ifndef TL_BOOT
    if (tl_hooks_load()) tl_sys1(SYS_exit_group, TL_EXIT_SETUP);
    if (tl_hook_loaded) tl_vm_invalidate(); /* the hook's set-up mapped memory unseen */
#endif
    /* the boot image loads a hook later, when the program's loader is done (sud/boot.c) */
    tl_tcbs_refresh_special(); /* this thread and any the hook's set-up started */
    /* said once set-up succeeded, so that an error stays one line: here, or once the boot
     * image has loaded the hook (sud/boot.c) */
    start_note = no_pkeys_note;
    if (!(tl_booted && tl_cfg.hook)) tl_start_note();
}

void tl_start_note(void)
{
    if (start_note)
        warn("note: this CPU has no protection keys, so the trampoline at address 0 would make NULL reads succeed;",
             "running in sud-only mode (complete, slower).",
             "For the fast mode, giving up NULL-read faults: --allow-null-reads (TRAPLINE_ALLOW_NULL_READS=1)");
    start_note = 0;
}

#ifndef TL_BOOT
/* Whose code ran before this constructor? A handler installed then (exec resets every
 * other) must be adopted (sud/signals.c), and finding which ones are caught takes a read
 * of /proc/self/status: the first /proc/self access of a process costs ~20-30 us here,
 * the largest single item of our start-up. Before us ran ld.so, the IFUNC resolvers,
 * the executable's preinit functions, audit modules, and the constructors of the
 * objects initialised before ours. When every other object is glibc's own (which installs
 * no handler while starting), the executable has no preinit function and no IFUNC
 * resolver, and there is no audit module, no handler can be caught yet and the read is
 * skipped. */
static int others_first; /* an object of someone else's was loaded with us */

static int base_is(const char *name, const char *want)
{
    const char *b = name;
    for (const char *p = name; *p; p++)
        if (*p == '/') b = p + 1;
    return tl_streq(b, want);
}

/* a relocation table's address: ld.so adjusts the executable's in place by its load
 * address (a position-independent one's offsets are below it) */
static uint64_t dyn_addr(const struct dl_phdr_info *info, uint64_t p) { return p < info->dlpi_addr ? info->dlpi_addr + p : p; }

static int has_irelative(uint64_t at, uint64_t size)
{
    const ElfW(Rela) *r = (const ElfW(Rela) *)at;
    for (uint64_t i = 0; at && i < size / sizeof *r; i++)
        if (ELF64_R_TYPE(r[i].r_info) == R_X86_64_IRELATIVE) return 1;
    return 0;
}

/* An audit module (LD_AUDIT, ld.so --audit, DT_AUDIT) is loaded into a namespace of its
 * own, which dl_iterate_phdr does not show; its constructor ran before ours. glibc 2.35
 * and later chain every namespace's r_debug from the first (r_version 2), which ld.so
 * puts in the executable's DT_DEBUG. */
struct r_debug_ext {
    struct r_debug base;
    const struct r_debug_ext *r_next;
};

/* Code that ran before us, found from the executable: its preinit functions, its IFUNC
 * resolvers (ld.so calls them while relocating it, before any constructor), audit
 * modules */
static int exe_runs_first(const struct dl_phdr_info *info)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_DYNAMIC) continue;
        uint64_t rela = 0, relasz = 0, jmprel = 0, pltrelsz = 0;
        const struct r_debug_ext *debug = 0;
        for (const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr); d->d_tag != DT_NULL; d++) {
            if ((d->d_tag == DT_PREINIT_ARRAYSZ && d->d_un.d_val) || d->d_tag == DT_AUDIT || d->d_tag == DT_DEPAUDIT) return 1;
            if (d->d_tag == DT_RELA) rela = dyn_addr(info, d->d_un.d_ptr);
            if (d->d_tag == DT_RELASZ) relasz = d->d_un.d_val;
            if (d->d_tag == DT_JMPREL) jmprel = dyn_addr(info, d->d_un.d_ptr);
            if (d->d_tag == DT_PLTRELSZ) pltrelsz = d->d_un.d_val;
            if (d->d_tag == DT_DEBUG) debug = (const struct r_debug_ext *)d->d_un.d_ptr;
        }
        if (debug && debug->base.r_version >= 2 && debug->r_next) return 1;
        return has_irelative(rela, relasz) || has_irelative(jmprel, pltrelsz);
    }
    return 0;
}

/* the preloaded library: the path ld.so loaded us by (LD_PRELOAD's entry); and whether
 * anything but glibc's own objects was loaded with us */
static int find_name(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    int *index = data;
    uint64_t me = (uint64_t)tl_fast_entry;
    int mine = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && me >= lo && me < lo + ph->p_memsz) {
            tl_self_name = info->dlpi_name;
            mine = 1;
        }
    }
    const char *n = info->dlpi_name;
    if ((*index)++ == 0) { /* the executable: its preinit functions ran before us */
        if (exe_runs_first(info)) others_first = 1;
    } else if (!mine && n && n[0] && !base_is(n, "libc.so.6") && !base_is(n, "ld-linux-x86-64.so.2") &&
               !base_is(n, "linux-vdso.so.1"))
        others_first = 1;
    return 0;
}

__attribute__((constructor(101))) static void tl_init(void)
{
    /* the process was entered at its first instruction (or a copy of us is preloaded
     * twice): the trapline already running answers, and this copy stays out of the way */
    if (tl_sys2(SYS_arch_prctl, TL_PROBE_PRESENT, 0) == TL_PROBE_MAGIC) return;
    extern char **environ;
    tl_env = environ;
    int index = 0;
    dl_iterate_phdr(find_name, &index);
    if (!others_first && !tl_getenv("LD_AUDIT")) tl_signals_none_caught = 1;
    tl_start();
}
#endif
