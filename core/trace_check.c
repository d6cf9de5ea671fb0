/* The trace segment's geometry, and the checks a process makes before it joins one. Pure
 * functions (no system calls, no libc), shared with test/c/layout.c, which prints the
 * geometry the TypeScript side (ts/src/trace.ts) must compute the same way. */
#include "core/trace_check.h"

_Static_assert(sizeof(struct tl_trace_header) == 160, "trace header");
_Static_assert(sizeof(struct tl_ring_ctl) == 128, "ring control block: two cache lines");
_Static_assert(sizeof(struct tl_trace_rec) % TL_TRACE_ALIGN == 0 && sizeof(struct tl_trace_data) == TL_TRACE_ALIGN, "records");
_Static_assert(sizeof(struct tl_trace_module) % 8 == 0, "module records");

int tl_trace_geom(uint32_t ring_count, uint32_t ring_size, uint32_t module_cap, struct tl_trace_geom *g)
{
    if (ring_count == 0 || ring_count > TL_TRACE_RINGS_MAX) return -1;
    if (ring_size < TL_TRACE_RING_MIN || ring_size > TL_TRACE_RING_MAX || (ring_size & (ring_size - 1))) return -1;
    if (module_cap == 0 || module_cap > TL_TRACE_MODULES_MAX) return -1;
    g->ring = (sizeof(struct tl_trace_header) + 63) & ~63ull;
    g->data = (g->ring + (uint64_t)ring_count * sizeof(struct tl_ring_ctl) + 4095) & ~4095ull;
    g->module = g->data + (uint64_t)ring_count * ring_size;
    g->size = (g->module + (uint64_t)module_cap * sizeof(struct tl_trace_module) + 4095) & ~4095ull;
    return 0;
}

const char *tl_trace_check(const void *hdr, uint64_t file_size, uint64_t cookie)
{
    const struct tl_trace_header *h = hdr;
    for (int i = 0; i < 8; i++)
        if (h->magic[i] != TL_TRACE_MAGIC[i]) return "is not a trapline trace segment (bad magic)";
    if (h->version != TL_TRACE_VERSION || h->header_size != sizeof *h) return "is not a trapline v1 trace segment (version)";
    struct tl_trace_geom g;
    if (tl_trace_geom(h->ring_count, h->ring_size, h->module_cap, &g))
        return "is not a trapline v1 trace segment (ring or module counts out of bounds)";
    if (h->ring_off != g.ring || h->data_off != g.data || h->module_off != g.module || h->total_size != g.size ||
        file_size != g.size)
        return "is not a trapline v1 trace segment (an offset or the size differs)";
    if (!cookie || h->cookie != cookie) return "is not the segment this run created (cookie differs)";
    return 0;
}
