/* Statistics segment geometry and join checks (core/stats_check.c). */
#ifndef TRAPLINE_STATS_CHECK_H
#define TRAPLINE_STATS_CHECK_H
#include <stdint.h>
#include "core/stats_layout.h"

/* byte offsets of the tables and the whole size, as this build lays them out */
struct tl_stats_geom {
    uint64_t nr, i386, th, proc, mod, site, size;
};
struct tl_stats_geom tl_stats_geom(void) __attribute__((visibility("hidden")));

/* NULL if hdr (the first sizeof(struct tl_stats_header) bytes of a file of file_size bytes)
 * is a segment this build may join with this run cookie; else the problem, as text. */
const char *tl_stats_check(const void *hdr, uint64_t file_size, uint64_t cookie) __attribute__((visibility("hidden")));

#endif
