/* libFuzzer harness: the C plan parser (lazy/plan_parse.c) on arbitrary bytes, run the way
 * the library runs it (a counting pass, then a filling pass into exactly that many slots).
 * Checks, besides ASan/UBSan's own: both passes agree, every module's sites lie inside
 * the sink, offsets are < 2^52 and sources valid, and no offset repeats in a module.
 * Build and run: npm run fuzz (test/fuzz/run.sh). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lazy/plan_parse.c"

static struct tl_plan_mod mods[TL_PLAN_MAX_MODULES + 1];
static uint64_t seen[1u << TL_PLAN_SEEN_BITS];
static uint32_t seen_tag[1u << TL_PLAN_SEEN_BITS];
static uint32_t gen;

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a >> TL_PLAN_SOURCE_BITS, y = *(const uint64_t *)b >> TL_PLAN_SOURCE_BITS;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tl_plan_parser p = { .mods = mods, .mods_cap = TL_PLAN_MAX_MODULES + 1, .seen = seen, .seen_tag = seen_tag, .gen = gen };
    int r = tl_plan_parse(&p, (const char *)data, size);
    gen = p.gen;
    if (r) {
        if (!p.what || p.line == 0) abort();
        return 0;
    }
    if (p.nmods > TL_PLAN_MAX_MODULES) abort();
    uint64_t n = p.nsites;
    uint64_t *sink = malloc((n ? n : 1) * sizeof *sink);
    struct tl_plan_parser q = { .mods = mods, .mods_cap = TL_PLAN_MAX_MODULES + 1, .sink = sink, .sink_cap = n, .seen = seen, .seen_tag = seen_tag, .gen = gen };
    if (tl_plan_parse(&q, (const char *)data, size) || q.nmods != p.nmods || q.nsites != n) abort();
    gen = q.gen;
    uint64_t total = 0;
    for (uint32_t i = 0; i < q.nmods; i++) {
        const struct tl_plan_mod *m = &mods[i];
        if (m->idlen < 1 || m->idlen > 20 || m->n > TL_PLAN_MAX_SITES) abort();
        if (m->n && (m->sites < sink || m->sites + m->n > sink + n)) abort();
        for (uint32_t k = 0; k < m->n; k++)
            if ((m->sites[k] >> TL_PLAN_SOURCE_BITS) >= (1ull << 52) || (m->sites[k] & TL_PLAN_SOURCE_MASK) == 0) abort();
        uint64_t *c = malloc((m->n ? m->n : 1) * sizeof *c);
        memcpy(c, m->sites, m->n * sizeof *c);
        qsort(c, m->n, sizeof *c, cmp);
        for (uint32_t k = 1; k < m->n; k++) if (c[k] >> TL_PLAN_SOURCE_BITS == c[k - 1] >> TL_PLAN_SOURCE_BITS) abort();
        free(c);
        total += m->n;
    }
    if (total != n) abort();
    free(sink);
    return 0;
}
