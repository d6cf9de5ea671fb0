/* libFuzzer harness: the checks a process makes before it joins an existing statistics
 * segment (core/stats_check.c), on arbitrary headers and file sizes. Property: whatever is
 * accepted locates every table inside the file, exactly where this build lays it out, so
 * the counter writes that follow cannot leave the segment.
 * Input: 8 bytes of file size (little-endian), 8 bytes of run cookie, then the header
 * (zero-padded). Build and run: npm run fuzz (test/fuzz/run.sh). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/stats_check.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tl_stats_header h;
    uint64_t file_size = 0, cookie = 0;
    memset(&h, 0, sizeof h);
    if (size >= 8) memcpy(&file_size, data, 8);
    if (size >= 16) memcpy(&cookie, data + 8, 8);
    if (size > 16) memcpy(&h, data + 16, size - 16 < sizeof h ? size - 16 : sizeof h);
    const char *bad = tl_stats_check(&h, file_size, cookie);
    if (bad) return 0;
    struct tl_stats_geom g = tl_stats_geom();
    if (file_size != g.size || h.total_size != file_size || cookie == 0 || h.run_cookie != cookie) abort();
    if (h.nr_off != g.nr || h.nr_off + (uint64_t)TL_NR_MAX * sizeof(struct tl_nr_counters) > file_size) abort();
    if (h.thread_off != g.th || h.thread_off + (uint64_t)TL_THREAD_SLOTS * sizeof(struct tl_thread_block) > file_size) abort();
    if (h.proc_off != g.proc || h.proc_off + (uint64_t)h.proc_cap * sizeof(struct tl_proc_rec) > file_size) abort();
    if (h.module_off != g.mod || h.module_off + (uint64_t)h.module_cap * sizeof(struct tl_module_rec) > file_size) abort();
    if (h.site_off != g.site || h.site_off + (uint64_t)h.site_cap * sizeof(struct tl_site_rec) > file_size) abort();
    return 0;
}
