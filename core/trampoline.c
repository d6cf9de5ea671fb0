/* Maps the trampoline at virtual address 0 and its landing pages. */
#include "tl.h"
#include "sled.h"
#include <sys/mman.h>
#include <errno.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

int tl_zero_mapped;

static void put_absjmp(uint8_t *at, uint64_t target)
{
    /* jmp *0(%rip) ; .quad target */
    at[0] = 0xFF; at[1] = 0x25; at[2] = at[3] = at[4] = at[5] = 0;
    for (int k = 0; k < 8; k++) at[6 + k] = (uint8_t)(target >> (8 * k));
}

/* The exits' rel32 must consist of REX bytes (0x40..0x4f); try a few patterns until the
 * two landing pages can be mapped without replacing anything. */
static int map_landing(uint32_t *rel_out)
{
    static const uint8_t pats[] = { 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x47, 0x46, 0x45, 0x44 };
    for (unsigned i = 0; i < sizeof pats; i++) {
        uint32_t rel = 0x01010101u * pats[i];
        uint64_t ta = SLED_TARGET_A(rel), tb = SLED_TARGET_B(rel);
        uint64_t lo = ta & ~4095ull, hi = (tb + 14 + 4095) & ~4095ull;
        if ((ta & 4095) > 4096 - 14) continue;
        long r = tl_sys6(SYS_mmap, (long)lo, (long)(hi - lo), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (r < 0 && r > -4096) continue;
        if ((uint64_t)r != lo) { tl_sys2(SYS_munmap, r, hi - lo); continue; }
        uint8_t *p = (uint8_t *)lo;
        memset(p, 0xCC, hi - lo);               /* int3 anywhere else */
        put_absjmp(p + (ta - lo), (uint64_t)tl_fast_entry);
        put_absjmp(p + (tb - lo), (uint64_t)tl_fast_entry);
        tl_sys3(SYS_mprotect, lo, hi - lo, PROT_READ | PROT_EXEC);
        *rel_out = rel;
        return 0;
    }
    return -EEXIST;
}

int tl_trampoline_map(void)
{
    long r = tl_sys6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (r != 0) {
        if (r > 0) tl_sys2(SYS_munmap, r, 4096);
        return r < 0 ? (int)r : -EEXIST;
    }
    uint32_t rel;
    int e = map_landing(&rel);
    if (e) { tl_sys2(SYS_munmap, 0, 4096); return e; }
    uint8_t page[4096];
    tl_sled_build(page, rel, rel);
    /* copy to address 0 in asm: C forbids writing through a null pointer */
    void *dst = 0; const void *src = page; size_t n = sizeof page;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    /* execute-only: with protection keys the kernel backs PROT_EXEC alone with a key
     * that denies data access, so reads of page 0 still fault */
    tl_sys3(SYS_mprotect, 0, 4096, PROT_EXEC);
    tl_zero_mapped = 1;
    return 0;
}
