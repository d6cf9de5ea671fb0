/* Maps the trampoline at virtual address 0 and its landing pages. */
#include "core/core.h"
#include "core/sled.h"
#include <sys/mman.h>
#include <errno.h>


int tl_zero_mapped;

/* Landing pages: one 11-byte slot per sled group holding `jmp *[abs32]` through the
 * group's own pointer to the group's stub in our text (tl_land_stubs, entry.S), which
 * notes the group in the control block and jumps to tl_fast_entry. The group tells which
 * 11 bytes of page 0 a call landed in, so a call or jump into page 0 from code we did not
 * rewrite is reported with the address it really targeted. The slots span 4099 bytes
 * across two pages; the pointers fill the rest of those two pages, after the slots and
 * then before them (each page first touched is a fault: two, not three). Tries the REX
 * byte patterns until the pages can be mapped without replacing anything. */
#define LAND_PAGES 2
_Static_assert(SLED_GROUP *(SLED_GROUPS - 1) + 7 + 8 * SLED_GROUPS + 2 * 8 <= LAND_PAGES * 4096,
               "the landing slots and their pointers fit two pages");
static int map_landing(uint8_t *rex_out, uint64_t *lo_out, uint64_t *len_out)
{
    static const uint8_t pats[] = {0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x47, 0x46, 0x45, 0x44};
    for (unsigned i = 0; i < sizeof pats; i++) {
        uint8_t rex = pats[i];
        uint64_t first = SLED_LANDING(rex, 0), last = SLED_LANDING(rex, SLED_GROUPS - 1);
        uint64_t lo = first & ~4095ull, hi = lo + LAND_PAGES * 4096;
        if (last + 7 > hi) return -EINVAL; /* cannot happen: the slots span 4099 bytes */
        long r = tl_sys6(SYS_mmap, (long)lo, (long)(hi - lo), PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | TL_MAP_FIXED_NOREPLACE, -1, 0);
        if (r < 0 && r > -4096) continue;
        if ((uint64_t)r != lo) {
            tl_sys2(SYS_munmap, r, hi - lo);
            continue;
        }
        uint8_t *p = (uint8_t *)lo;
        memset(p, 0xCC, hi - lo); /* int3 anywhere else */
        uint64_t ptr = (last + 7 + 7) & ~7ull; /* the next free pointer: after the slots */
        int wrapped = 0;
        for (int g = 0; g < SLED_GROUPS; g++) {
            if (ptr + 8 > hi) { /* then from the start of the first page */
                ptr = lo;
                wrapped = 1;
            }
            *(uint64_t *)(p + (ptr - lo)) = (uint64_t)tl_land_stubs + TL_LAND_STUB * (uint64_t)g;
            uint8_t *s = p + (SLED_LANDING(rex, g) - lo);
            /* jmp *[ptr] : FF 24 25 abs32 (FF /4, ModRM 24: a SIB follows, SIB 25: disp32 alone) */
            s[0] = 0xFF;
            s[1] = 0x24;
            s[2] = 0x25;
            for (int k = 0; k < 4; k++) s[3 + k] = (uint8_t)(ptr >> (8 * k));
            ptr += 8;
        }
        if (wrapped && ptr > first) { /* the pointers ran into the slots: cannot happen (asserted) */
            tl_sys2(SYS_munmap, lo, hi - lo);
            return -EINVAL;
        }
        if (tl_sys3(SYS_mprotect, lo, hi - lo, PROT_READ | PROT_EXEC)) {
            tl_sys2(SYS_munmap, lo, hi - lo);
            return -EPERM;
        }
        *rex_out = rex;
        *lo_out = lo;
        *len_out = hi - lo;
        return 0;
    }
    return -EEXIST;
}

int tl_trampoline_map(void)
{
    long r = tl_sys6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | TL_MAP_FIXED_NOREPLACE, -1, 0);
    if (r != 0) {
        if (r > 0) tl_sys2(SYS_munmap, r, 4096);
        return r < 0 ? (int)r : -EEXIST;
    }
    uint8_t rex;
    uint64_t land_lo, land_len;
    int e = map_landing(&rex, &land_lo, &land_len);
    if (e) {
        tl_sys2(SYS_munmap, 0, 4096);
        return e;
    }
    uint8_t page[4096];
    tl_sled_build(page, rex);
    /* copy to address 0 in asm: C forbids writing through a null pointer */
    void *dst = 0;
    const void *src = page;
    size_t n = sizeof page;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    /* execute-only: with protection keys the kernel backs PROT_EXEC alone with a key
     * that denies data access, so reads of page 0 still fault */
    long pe = tl_sys3(SYS_mprotect, 0, 4096, PROT_EXEC);
    if (pe) {
        tl_sys2(SYS_munmap, 0, 4096);
        tl_sys2(SYS_munmap, land_lo, land_len); /* nothing of the trampoline is left behind */
        return (int)pe;
    }
    tl_zero_mapped = 1;
    return 0;
}
