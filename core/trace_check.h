/* Trace segment geometry and join checks (core/trace_check.c). */
#ifndef TRAPLINE_TRACE_CHECK_H
#define TRAPLINE_TRACE_CHECK_H
#include <stdint.h>
#include "core/trace_layout.h"

/* byte offsets of the tables and the whole size, for a segment of this shape */
struct tl_trace_geom {
    uint64_t ring, data, module, size;
};
/* 0 with *g filled in, or -1 if the shape is out of bounds (ring_size not a power of two
 * in [TL_TRACE_RING_MIN, TL_TRACE_RING_MAX], ring_count or module_cap 0 or too large) */
int tl_trace_geom(uint32_t ring_count, uint32_t ring_size, uint32_t module_cap, struct tl_trace_geom *g)
    __attribute__((visibility("hidden")));

/* NULL if hdr (the first sizeof(struct tl_trace_header) bytes of a file of file_size bytes)
 * is a trace segment this build may join with this cookie; else the problem, as text */
const char *tl_trace_check(const void *hdr, uint64_t file_size, uint64_t cookie) __attribute__((visibility("hidden")));

#endif
