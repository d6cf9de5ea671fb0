/* Page 0 holds our trampoline; to the program it must behave as unmapped, in every call
 * that takes an address range. Natively the range's first page is a hole there, so:
 *
 *   mprotect, pkey_mprotect, mlock, mlock2, munlock, mremap (old range)
 *       fail at the hole before changing anything: the same call is made on a range of
 *       the same length above the user address space (NOWHERE), where the kernel runs
 *       all its checks (alignment, flags, prot, pkey, length) and then finds the same
 *       hole: EINVAL/EPERM/... exactly as natively, else ENOMEM (EFAULT for mremap);
 *   madvise, msync
 *       act on the mapped part and report the hole: the part above page 0 is passed to
 *       the kernel, and success becomes ENOMEM;
 *   munmap
 *       holes are fine: the part above page 0 is unmapped;
 *   mincore
 *       ENOMEM at the first page, nothing written;
 *   mmap/mremap with MAP_FIXED/MREMAP_FIXED into page 0, shmat rounding to address 0
 *       the kernel's checks (mmap: at NOWHERE), then EPERM, as for a process that may
 *       not map below vm.mmap_min_addr (a program
 *       running as root with vm.mmap_min_addr = 0 could map page 0 without us: the one
 *       difference, see docs/design.md).
 * Ranges that start inside page 0 but not at 0 are misaligned: the kernel rejects them
 * before touching anything, so they are passed on unchanged (mlock, which rounds the
 * start down, is the exception and is handled). */
#include "core/core.h"
#include <errno.h>
#include <sys/mman.h>
#ifndef SHM_RND
#define SHM_RND 020000
#endif
#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif

/* Above every user address space (4- and 5-level paging), and not changed by linear
 * address masking (bit 63 is never a tag): no mapping can be there. */
#define NOWHERE (1ull << 63)

/* [a, a + len) (len rounded up to pages, no wrap) meets page 0 */
static int meets(uint64_t a, uint64_t len) { return a < 4096 && len != 0; }

/* The rest of a range that starts at 0: [4096, end), or len 0 if it ends in page 0. */
static uint64_t rest(uint64_t len)
{
    uint64_t end = (len + 4095) & ~4095ull;
    return end > 4096 ? end - 4096 : 0;
}

int tl_page0_call(long nr, const uint64_t a[6], long *ret)
{
    if (!tl_zero_mapped) return 0;
    switch (nr) {
    case SYS_mprotect:
    case SYS_pkey_mprotect:
    case SYS_munlock:
    case SYS_mlock:
    case SYS_mlock2: {
        int rounds = nr != SYS_mprotect && nr != SYS_pkey_mprotect; /* mlock*: start rounded down */
        if (a[0] != 0 && !(rounds && a[0] < 4096)) return 0;
        if (!meets(a[0] & ~4095ull, a[1] + (a[0] & 4095))) return 0;
        *ret = tl_sys6(nr, (long)(NOWHERE + (a[0] & 4095)), (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
        return 1;
    }
    case SYS_mremap:
        if (a[0] == 0) { /* the old range starts in the hole */
            *ret = tl_sys6(nr, (long)NOWHERE, (long)a[1], (long)a[2], (long)a[3], (long)a[4], 0);
            if (*ret >= 0 || *ret == -ENOMEM) *ret = -EFAULT;
            return 1;
        }
        if ((a[3] & TL_MREMAP_FIXED) && a[4] < 4096 && !(a[4] & 4095)) {
            *ret = -EPERM;
            return 1;
        }
        return 0;
    case SYS_madvise:
    case SYS_msync: {
        if (a[0] != 0 || a[1] == 0) return 0;
        uint64_t r = rest(a[1]);
        long k = r ? tl_sys3(nr, 4096, (long)r, (long)a[2]) : tl_sys3(nr, (long)NOWHERE, (long)a[1], (long)a[2]); /* checks only */
        *ret = (k == 0 || k == -ENOMEM) ? -ENOMEM : k;
        return 1;
    }
    case TL_NR_MSEAL:
        if (a[0] != 0 || a[1] == 0) return 0;
        *ret = tl_sys3(nr, (long)NOWHERE, (long)a[1], (long)a[2]);
        if (*ret == 0) *ret = -ENOMEM;
        return 1;
    case SYS_munmap: {
        if (a[0] != 0 || a[1] == 0 || a[1] > NOWHERE) return 0; /* the kernel's EINVAL */
        uint64_t r = rest(a[1]);
        *ret = r ? tl_sys2(nr, 4096, (long)r) : 0;
        return 1;
    }
    case SYS_mincore:
        if (a[0] != 0 || a[1] == 0) return 0;
        *ret = -ENOMEM;
        return 1;
    case SYS_mmap:
        if ((a[3] & (MAP_FIXED | TL_MAP_FIXED_NOREPLACE)) && a[0] == 0) {
            /* the kernel's checks (length, flags, fd, file modes) at an address where
             * nothing can be mapped, then the refusal for page 0 */
            *ret = tl_sys6(nr, (long)NOWHERE, (long)a[1], (long)a[2], (long)a[3], (long)a[4], (long)a[5]);
            if (*ret >= 0 || *ret < -4095) {
                tl_sys2(SYS_munmap, *ret, (long)a[1]);
                *ret = -EPERM;
            } else if (*ret == -ENOMEM)
                *ret = -EPERM;
            return 1;
        }
        return 0;
    case SYS_shmat: /* SHM_RND rounds 1..4095 down to 0, mapped MAP_FIXED (SHM_REMAP: EINVAL) */
        if (a[1] != 0 && a[1] < 4096 && (a[2] & SHM_RND) && !(a[2] & SHM_REMAP)) {
            *ret = -EPERM;
            return 1;
        }
        return 0;
    }
    return 0;
}
