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

/* The address of the dynamic symbol `name` defined by the ELF image loaded at base, whose
 * dynamic section is at dyn; 0 if it has none. Its default version (name@@VERSION) is
 * preferred over hidden ones (name@VERSION). The dynamic section's addresses are taken as
 * they are found: offsets from base before the dynamic loader has run, absolute after it
 * (glibc's loader adjusts them in place). Lookup by DT_GNU_HASH, or DT_HASH. Only for
 * images the process has mapped and nobody is unmapping (the dynamic loader, libc). */
uint64_t tl_elf_symbol(uint64_t base, const void *dynamic, const char *name)
{
    uint64_t symtab = 0, strtab = 0, gnuhash = 0, hash = 0, versym = 0;
    for (const Elf64_Dyn *d = (const Elf64_Dyn *)dynamic; d && d->d_tag != DT_NULL; d++) {
        uint64_t v = d->d_un.d_ptr;
        if (d->d_tag != DT_SYMTAB && d->d_tag != DT_STRTAB && d->d_tag != DT_GNU_HASH && d->d_tag != DT_HASH &&
            d->d_tag != DT_VERSYM)
            continue;
        if (v < base) v += base;
        if (d->d_tag == DT_SYMTAB)
            symtab = v;
        else if (d->d_tag == DT_STRTAB)
            strtab = v;
        else if (d->d_tag == DT_GNU_HASH)
            gnuhash = v;
        else if (d->d_tag == DT_HASH)
            hash = v;
        else
            versym = v;
    }
    if (!symtab || !strtab || (!gnuhash && !hash)) return 0;
    const Elf64_Sym *syms = (const Elf64_Sym *)symtab;
    uint64_t best = 0;
    int best_hidden = 1;
#define CONSIDER(i)                                                                                                                \
    do {                                                                                                                           \
        const Elf64_Sym *s = &syms[i];                                                                                             \
        if (s->st_shndx != SHN_UNDEF && s->st_value && tl_streq((const char *)(strtab + s->st_name), name)) {                      \
            int hidden = versym ? (((const uint16_t *)versym)[i] & 0x8000) != 0 : 0;                                               \
            if (!best || (best_hidden && !hidden)) {                                                                               \
                best = (ELF64_ST_TYPE(s->st_info) == STT_TLS ? 0 : base) + s->st_value;                                            \
                best_hidden = hidden;                                                                                              \
            }                                                                                                                      \
        }                                                                                                                          \
    } while (0)
    if (gnuhash) {
        const uint32_t *h = (const uint32_t *)gnuhash;
        uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
        if (!nbuckets) return 0;
        const uint64_t *bloom = (const uint64_t *)(h + 4);
        const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
        const uint32_t *chain = buckets + nbuckets;
        uint32_t hv = 5381;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) hv = hv * 33 + *p;
        for (uint32_t i = buckets[hv % nbuckets]; i >= symoffset && i; i++) {
            uint32_t c = chain[i - symoffset];
            if ((c | 1) == (hv | 1)) CONSIDER(i);
            if (c & 1) break;
        }
    } else {
        const uint32_t *h = (const uint32_t *)hash;
        uint32_t nbucket = h[0], hv = 0;
        if (!nbucket) return 0;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
            hv = (hv << 4) + *p;
            uint32_t g = hv & 0xf0000000u;
            if (g) hv ^= g >> 24;
            hv &= ~g;
        }
        const uint32_t *bucket = h + 2, *chain = bucket + nbucket;
        for (uint32_t i = bucket[hv % nbucket]; i; i = chain[i]) CONSIDER(i);
    }
#undef CONSIDER
    return best;
}
