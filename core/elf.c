/* Reading ELF images already mapped in the process (never the file): the build-id that
 * keys coverage records (core/coverage.c) and plans (lazy/plan.c). */
#include "core/core.h"
#include <elf.h>

/* GNU build-id of the x86-64 ELF file whose header is mapped at base (its PT_NOTE
 * segments read at base + vaddr, or at vaddr for ET_EXEC). Its length, 0 if none. */
uint32_t tl_elf_build_id(uint64_t base, uint8_t id[20])
{
    /* the header, program headers and notes normally lie in the first page: read it in
     * one call (as much of it as is mapped), and anything beyond it piece by piece */
    static uint8_t page[4096];
    static int page_lock;
    tl_spin_lock(&page_lock);
    struct {
        void *b;
        size_t l;
    } local = {page, sizeof page}, remote = {(void *)base, sizeof page};
    long got = UNLIKELY(tl_seccomp_mode) && !tl_seccomp_allows(SYS_process_vm_readv, tl_pid, 0, 1)
        ? 0
        : tl_sys6(SYS_process_vm_readv, tl_pid, (long)&local, 1, (long)&remote, 1, 0);
    if (got < 0) got = 0;
#define READ(addr, out, n)                                                                                                         \
    ((addr) >= base && (addr)-base <= (uint64_t)got && (uint64_t)got - ((addr)-base) >= (n)                                        \
         ? (memcpy((out), page + ((addr)-base), (n)), 1)                                                                           \
         : tl_safe_read((addr), (out), (n)))
    uint32_t found = 0;
    Elf64_Ehdr eh;
    if (!READ(base, &eh, sizeof eh) || eh.e_ident[0] != 0x7f || eh.e_ident[1] != 'E' || eh.e_ident[2] != 'L' ||
        eh.e_ident[3] != 'F' || eh.e_machine != EM_X86_64 || eh.e_phnum > 64)
        goto out;
    Elf64_Phdr phs[64];
    if (!READ(base + eh.e_phoff, phs, eh.e_phnum * sizeof phs[0])) goto out;
    for (int i = 0; i < eh.e_phnum && !found; i++) {
        const Elf64_Phdr ph = phs[i];
        if (ph.p_type != PT_NOTE) continue;
        uint64_t at = eh.e_type == ET_EXEC ? ph.p_vaddr : base + ph.p_vaddr, end = at + ph.p_memsz;
        while (at + 12 <= end) {
            uint32_t nh[3];
            if (!READ(at, nh, 12)) break;
            uint64_t desc = at + 12 + ((nh[0] + 3) & ~3u);
            if (nh[2] == NT_GNU_BUILD_ID && nh[0] == 4 && nh[1] >= 1 && nh[1] <= 20) {
                found = READ(desc, id, nh[1]) ? nh[1] : 0;
                break;
            }
            at = desc + ((nh[1] + 3) & ~3u);
        }
    }
#undef READ
out:
    tl_spin_unlock(&page_lock);
    return found;
}
