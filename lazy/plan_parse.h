/* The plan file grammar (docs/scan.md), one parser for the preload library, the shared
 * test vectors (test/plan-vectors.txt, test/c/planvec.c) and the libFuzzer harness
 * (test/fuzz/plan_parse.c). Pure: no system calls, no libc, no allocation. */
#ifndef TRAPLINE_PLAN_PARSE_H
#define TRAPLINE_PLAN_PARSE_H
#include <stdint.h>

#define TL_PLAN_MAX_MODULES 4096u /* per file */
#define TL_PLAN_MAX_SITES 65536u /* per module */
#define TL_PLAN_MAX_LINE 4096u /* bytes, not counting the '\n' */
#define TL_PLAN_MAX_OFFSET_DIGITS 13u /* offsets < 2^52 */
#define TL_PLAN_MAX_FILE (64u << 20) /* bytes of one plan file read */
#define TL_PLAN_SEEN_BITS 17u /* duplicate-offset table: 2^17 entries >= 2 x sites */

/* a site: offset << TL_PLAN_SOURCE_BITS | source. The values are those of the statistics
 * segment's enum tl_site_source (TL_SOURCE_PLAN_*, core/stats_layout.h; checked in
 * lazy/plan.c), so a site's source is recorded as it is: one encoding, not two. */
#define TL_PLAN_SOURCE_BITS 2
#define TL_PLAN_SOURCE_MASK ((1u << TL_PLAN_SOURCE_BITS) - 1)
enum tl_plan_source { TL_PLAN_CONFIRMED = 1, TL_PLAN_LEARNED = 2, TL_PLAN_UNVERIFIED = 3 };

struct tl_plan_mod {
    uint8_t id[20];
    uint32_t idlen;
    uint32_t n; /* sites */
    uint64_t *sites; /* offset << TL_PLAN_SOURCE_BITS | enum tl_plan_source (NULL when counting) */
};

struct tl_plan_parser {
    struct tl_plan_mod *mods; /* modules are appended at mods[nmods] */
    uint32_t nmods, mods_cap;
    uint64_t *sink; /* NULL: validate and count only */
    uint64_t sink_cap; /* entries of sink */
    uint64_t nsites; /* out: sites of this file */
    uint64_t *seen; /* scratch, 1 << TL_PLAN_SEEN_BITS entries each ... */
    uint32_t *seen_tag; /* ... (contents need no initialisation beyond zero once) */
    uint32_t gen; /* module serial for seen_tag; keep between calls */
    uint32_t seen_bits; /* entries used: 1 << seen_bits (0: TL_PLAN_SEEN_BITS); a small file
                         * needs few, and every page of the table first touched is a fault */
    uint32_t line; /* out on error: 1-based line */
    const char *what; /* out on error: the problem */
};

/* Parses one plan file of len bytes. 0, or -1 with line/what set; on error the modules
 * appended so far are left in mods[] (the caller resets nmods). */
int tl_plan_parse(struct tl_plan_parser *p, const char *buf, uint64_t len);

#endif
