/* The set of rewritten sites, keyed by return address (site + 2): the fast entry looks
 * the caller up here so that only sites we rewrote may enter the hook (a call through a
 * small function pointer from anywhere else is re-raised as SIGSEGV). Open addressing,
 * 2^TL_SITE_BITS slots, at most TL_SITE_MAX used: lookups are short and memory is fixed
 * (16 MiB of address space, touched lazily). A slot is a pair (return address, hit
 * counter) in one 16-byte unit. The home slot (TL_SITE_SLOT, core/tcb.h) groups the sites
 * of one code page in one page of the table, so a program's hot sites touch the table
 * as they touch their code: a few pages, neighbours sharing lines. There is no per-thread
 * cache in front: at one hot site the table's line is as hot, and at thousands a cache
 * that misses costs more than it saves. A forgotten site's slot becomes a tombstone
 * (lazy/jit.c), so no former site stays "known". */
#include "core/core.h"
#include <sys/mman.h>

uint64_t *tl_sites;
static uint64_t count;

#define MASK ((1ull << TL_SITE_BITS) - 1)

static inline uint64_t slot_of(uint64_t ret) { return TL_SITE_SLOT(ret); }
_Static_assert(TL_SITE_BITS + TL_PAIR_SHIFT <= 31, "entry.S masks a slot's offset with an imm32");
_Static_assert(TL_SITE_MAX <= (1u << TL_SITE_BITS) / 2, "the site table is at most half full");
_Static_assert((TL_SITE_STEP & 1) && TL_SITE_STEP < (1u << TL_SITE_BITS), "the probe visits every slot");
_Static_assert(TL_PAGE_SIZE == 4096, "TL_SITE_SLOT: the page number is ret >> 12");

/* The site table shares one mapping with an arena for our other large private tables
 * (map of the address space, site records without a segment, rewritten-site list, ...):
 * one mmap at start-up instead of one per table. Untouched pages cost nothing. */
#define ARENA_SIZE (24ull << 20)
static uint64_t arena, arena_used;

int tl_sites_init(void)
{
    long p = tl_sys6(SYS_mmap, 0, (16ull << TL_SITE_BITS) + ARENA_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p < 0 && p > -4096) return (int)p;
    tl_sites = (uint64_t *)p;
    arena = (uint64_t)p + (16ull << TL_SITE_BITS);
    return 0;
}

/* size bytes of zeroed private memory (page-aligned), or NULL */
void *tl_alloc_big(uint64_t size)
{
    size = (size + 4095) & ~4095ull;
    if (arena) {
        uint64_t at = __atomic_fetch_add(&arena_used, size, __ATOMIC_RELAXED);
        if (at + size <= ARENA_SIZE) return (void *)(arena + at);
    }
    long p = tl_sys6(SYS_mmap, 0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p < 0 && p > -4096 ? 0 : (void *)p;
}

/* A forgotten site's slot holds TOMB: lookups probe past it, inserts do not reuse it
 * (the table only grows; it is sized for that). */
#define TOMB 1ull

/* The table is touched lazily: a read of a page never written maps the zero page, and a
 * store after it faults a second time. So a slot about to be written is written first (a
 * locked or of 0, which no reader can tell from nothing): one fault, not two. */
static inline void touch_slot(uint64_t i) { __atomic_fetch_or(&tl_sites[2 * i + 1], 0, __ATOMIC_RELAXED); }

/* No site returns below page 1, and 0 and TOMB would match empty and forgotten slots (as
 * in entry.S): a jump to a bad address with 0 on top of the stack is no site's call. */
static inline int known(uint64_t ret, int touch)
{
    if (!tl_sites || ret < TL_PAGE_SIZE) return 0;
    for (uint64_t i = slot_of(ret);; i = (i + TL_SITE_STEP) & MASK) {
        if (touch) touch_slot(i);
        uint64_t v = __atomic_load_n(&tl_sites[2 * i], __ATOMIC_ACQUIRE);
        if (v == ret) return 1;
        if (v == 0) return 0;
    }
}

int tl_site_known(uint64_t ret) { return known(ret, 0); }

/* The same for a site about to be inserted (a plan's): its slots are written first, as
 * tl_site_insert does, so that the look-up and the insert fault once between them. */
int tl_site_known_to_insert(uint64_t ret) { return known(ret, 1); }

/* the hit counter of the rewritten site that returns to ret, NULL if none */
uint64_t *tl_site_hits(uint64_t ret)
{
    if (!tl_sites || ret < TL_PAGE_SIZE) return 0;
    for (uint64_t i = slot_of(ret);; i = (i + TL_SITE_STEP) & MASK) {
        uint64_t v = __atomic_load_n(&tl_sites[2 * i], __ATOMIC_ACQUIRE);
        if (v == ret) return (uint64_t *)__atomic_load_n(&tl_sites[2 * i + 1], __ATOMIC_RELAXED);
        if (v == 0) return 0;
    }
}

void tl_site_remove(uint64_t ret)
{
    for (uint64_t i = slot_of(ret);; i = (i + TL_SITE_STEP) & MASK) {
        uint64_t v = __atomic_load_n(&tl_sites[2 * i], __ATOMIC_ACQUIRE);
        if (v == ret) {
            __atomic_store_n(&tl_sites[2 * i], TOMB, __ATOMIC_RELEASE);
            return;
        }
        if (v == 0) return;
    }
}

/* 1 inserted or present, 0 table full. Called with the rewrite lock held (one inserter
 * at a time; lookups run concurrently): the counter pointer beside the key is written
 * before the key is published. */
int tl_site_insert(uint64_t ret, uint64_t *hits)
{
    if (__atomic_load_n(&count, __ATOMIC_RELAXED) >= TL_SITE_MAX) return tl_site_known(ret);
    for (uint64_t i = slot_of(ret);; i = (i + TL_SITE_STEP) & MASK) {
        touch_slot(i);
        uint64_t v = __atomic_load_n(&tl_sites[2 * i], __ATOMIC_ACQUIRE);
        if (v == ret) return 1;
        if (v == 0) {
            uint64_t z = 0;
            tl_sites[2 * i + 1] = (uint64_t)hits;
            if (__atomic_compare_exchange_n(&tl_sites[2 * i], &z, ret, 0, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
                __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
                return 1;
            }
            if (z == ret) return 1;
        }
    }
}
