/* The statistics segment's geometry, and the checks a process makes before it joins an
 * existing segment. Pure functions (no system calls, no libc): the preload library uses
 * them, and so does the libFuzzer harness (test/fuzz/stats_join.c). docs/security.md. */
#include "core/stats_check.h"

struct tl_stats_geom tl_stats_geom(void)
{
    struct tl_stats_geom l;
    l.nr = (sizeof(struct tl_stats_header) + 63) & ~63ull;
    l.i386 = l.nr + TL_NR_MAX * sizeof(struct tl_nr_counters);
    l.th = (l.i386 + TL_NR_MAX * sizeof(struct tl_nr_counters) + 4095) & ~4095ull;
    l.proc = l.th + (uint64_t)TL_THREAD_SLOTS * sizeof(struct tl_thread_block);
    l.mod = l.proc + (uint64_t)TL_PROC_CAP * sizeof(struct tl_proc_rec);
    l.site = l.mod + (uint64_t)TL_MODULE_CAP * sizeof(struct tl_module_rec);
    l.size = (l.site + (uint64_t)TL_SITE_CAP * sizeof(struct tl_site_rec) + 4095) & ~4095ull;
    return l;
}

/* Every field that locates or sizes something must be exactly what this build lays out:
 * the joining process then never uses a value read from the file (which any process of
 * the run can write) to compute an address; it uses tl_stats_geom(). */
const char *tl_stats_check(const void *hdr, uint64_t file_size, uint64_t cookie)
{
    const struct tl_stats_header *h = hdr;
    struct tl_stats_geom g = tl_stats_geom();
    if (file_size != g.size) return "is not a trapline v4 statistics segment (wrong size)";
    for (int i = 0; i < 8; i++)
        if (h->magic[i] != TL_STATS_MAGIC[i]) return "is not a trapline statistics segment (bad magic)";
    if (h->version != TL_STATS_VERSION) return "is not a trapline v4 statistics segment (version)";
    if (h->header_size != sizeof *h || h->total_size != g.size || h->nr_max != TL_NR_MAX || h->thread_slots != TL_THREAD_SLOTS ||
        h->nr_off != g.nr || h->i386_off != g.i386 || h->thread_off != g.th || h->proc_off != g.proc ||
        h->proc_cap != TL_PROC_CAP || h->module_off != g.mod || h->module_cap != TL_MODULE_CAP || h->site_off != g.site ||
        h->site_cap != TL_SITE_CAP)
        return "is not a trapline v4 statistics segment (a table offset, size or capacity differs)";
    if (h->mode > TL_MODE_SUD_ONLY || h->policy > TL_POLICY_NONE) return "is not a trapline v4 statistics segment (mode or policy)";
    if (!cookie || h->run_cookie != cookie) return "is not the segment this run created (run cookie differs)";
    return 0;
}
