/* The boot image: this library's code, built a second time (TL_BOOT, no libc) as
 * libtrapline-boot.so, which the injector (sud/inject.c) maps into a program stopped at
 * its first instruction, before its dynamic loader or its _start has run. Nothing has
 * relocated it: tl_boot_relocate does (it runs before any code that reads a pointer from
 * data). tl_boot_main then starts trapline from the settings the injector wrote
 * (tl_env) and the auxiliary vector on the program's initial stack (tl_auxv). */
#include "sud/sud.h"
#include "sud/boot.h"
#include <elf.h>
#include <sys/mman.h>

extern const Elf64_Ehdr __ehdr_start HIDDEN;
extern const Elf64_Dyn _DYNAMIC[] HIDDEN;
HIDDEN void tl_boot_relocate(void);
HIDDEN int tl_boot_map(long fd);
HIDDEN int tl_boot_main(struct tl_boot_args *a);

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
    tl_start();
    return 1;
}
