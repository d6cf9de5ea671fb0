/* The vDSO is never written. Calls the vDSO's clock_gettime with a clock it must hand
 * to the kernel (CLOCK_BOOTTIME_ALARM... we use an invalid clock id, which takes the
 * fallback `syscall` inside the vDSO), twice, and compares the vDSO bytes.
 * Prints "ok <ret1> <ret2>". */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <elf.h>
#include <sys/auxv.h>
#include <time.h>

static void *vdso_sym(const char *name)
{
    uintptr_t base = getauxval(AT_SYSINFO_EHDR);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)base;
    Elf64_Phdr *ph = (Elf64_Phdr *)(base + eh->e_phoff);
    uintptr_t load = 0; Elf64_Dyn *dyn = 0;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && !load) load = base + ph[i].p_offset - ph[i].p_vaddr;
        if (ph[i].p_type == PT_DYNAMIC) dyn = (Elf64_Dyn *)(base + ph[i].p_offset);
    }
    Elf64_Sym *sym = 0; const char *str = 0; uint32_t *hash = 0;
    for (Elf64_Dyn *d = dyn; d->d_tag; d++) {
        if (d->d_tag == DT_SYMTAB) sym = (Elf64_Sym *)(load + d->d_un.d_ptr);
        if (d->d_tag == DT_STRTAB) str = (const char *)(load + d->d_un.d_ptr);
        if (d->d_tag == DT_HASH) hash = (uint32_t *)(load + d->d_un.d_ptr);
    }
    if (!sym || !str || !hash) return 0;
    for (uint32_t i = 0; i < hash[1]; i++)
        if (sym[i].st_name && strcmp(str + sym[i].st_name, name) == 0) return (void *)(load + sym[i].st_value);
    return 0;
}

int main(void)
{
    uintptr_t base = getauxval(AT_SYSINFO_EHDR);
    if (!base) { printf("ok no-vdso\n"); return 0; }
    int (*cg)(clockid_t, struct timespec *) = (int (*)(clockid_t, struct timespec *))vdso_sym("__vdso_clock_gettime");
    if (!cg) { printf("no __vdso_clock_gettime\n"); return 1; }
    static unsigned char before[8192];
    memcpy(before, (void *)base, sizeof before);
    struct timespec ts;
    int r1 = cg(12345, &ts), r2 = cg(12345, &ts), r3 = cg(CLOCK_MONOTONIC, &ts);
    if (memcmp(before, (void *)base, sizeof before)) { printf("vDSO bytes changed\n"); return 1; }
    printf("ok %d %d %d\n", r1, r2, r3);
    return 0;
}
