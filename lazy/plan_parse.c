/* Plan file grammar (docs/scan.md "Plan files"); ts/src/plan.ts implements the same one,
 * and both must pass test/plan-vectors.txt.
 *
 *   file   = line*, lines end at '\n' (the last may lack it), each <= 4096 bytes
 *   blanks = ' ' '\t'; leading and trailing blanks and '\r' of a line are ignored;
 *            a line that is then empty or starts with '#' is ignored
 *   first other line:  "trapline-plan 1"            (exactly)
 *   module line:       "module" blanks ID [blanks PATH-HINT]
 *                      ID: 2..40 lowercase hex digits, an even count; once per file
 *   site line:         OFFSET blanks SOURCE         (exactly two words)
 *                      OFFSET: 1..13 lowercase hex digits, no 0x; once per module
 *                      SOURCE: confirmed | learned | learned-unverified
 *   limits: 4096 modules per file, 65536 sites per module */
#include "lazy/plan_parse.h"

static int is_blank(char c) { return c == ' ' || c == '\t'; }

static int lhex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int word_is(const char *p, const char *e, const char *w)
{
    while (p < e && *w && *p == *w) p++, w++;
    return p == e && !*w;
}

/* 1 if off was already listed in the current module (then nothing changes), else 0 */
static int seen_before(struct tl_plan_parser *p, uint64_t off)
{
    uint32_t bits = p->seen_bits && p->seen_bits < TL_PLAN_SEEN_BITS ? p->seen_bits : TL_PLAN_SEEN_BITS;
    uint64_t mask = (1ull << bits) - 1;
    for (uint64_t i = ((off + 1) * 0x9e3779b97f4a7c15ull) >> (64 - bits);; i = (i + 1) & mask) {
        if (p->seen_tag[i] != p->gen) {
            p->seen_tag[i] = p->gen;
            p->seen[i] = off;
            return 0;
        }
        if (p->seen[i] == off) return 1;
    }
}

int tl_plan_parse(struct tl_plan_parser *p, const char *buf, uint64_t len)
{
    uint64_t pos = 0, used = 0;
    uint32_t line = 0, first = p->nmods;
    int header = 0;
    struct tl_plan_mod *cur = 0;
#define FAIL(msg)                                                                                                                  \
    do {                                                                                                                           \
        p->line = line;                                                                                                            \
        p->what = (msg);                                                                                                           \
        return -1;                                                                                                                 \
    } while (0)
    while (pos < len) {
        uint64_t s = pos, e = pos;
        while (e < len && buf[e] != '\n') e++;
        pos = e + 1;
        line++;
        if (e - s > TL_PLAN_MAX_LINE) FAIL("line longer than 4096 bytes");
        while (s < e && (is_blank(buf[s]) || buf[s] == '\r')) s++;
        while (e > s && (is_blank(buf[e - 1]) || buf[e - 1] == '\r')) e--;
        if (s == e || buf[s] == '#') continue;
        uint64_t w = s; /* end of the first word */
        while (w < e && !is_blank(buf[w])) w++;
        uint64_t v = w; /* start of the second */
        while (v < e && is_blank(buf[v])) v++;
        if (!header) {
            if (!word_is(buf + s, buf + e, "trapline-plan 1")) {
                if (word_is(buf + s, buf + w, "trapline-plan"))
                    FAIL("unsupported plan version (this build reads 'trapline-plan 1')");
                FAIL("not a trapline plan (expected 'trapline-plan 1' first)");
            }
            header = 1;
            continue;
        }
        if (word_is(buf + s, buf + w, "module")) {
            uint64_t ie = v;
            while (ie < e && !is_blank(buf[ie])) ie++;
            uint64_t nd = ie - v;
            if (nd < 2 || nd > 40 || (nd & 1)) FAIL("bad build-id (2 to 40 lowercase hex digits, an even count)");
            for (uint64_t k = v; k < ie; k++)
                if (lhex(buf[k]) < 0) FAIL("bad build-id (2 to 40 lowercase hex digits, an even count)");
            uint8_t id[20];
            uint32_t idlen = (uint32_t)(nd / 2);
            for (uint32_t k = 0; k < idlen; k++) id[k] = (uint8_t)(lhex(buf[v + 2 * k]) << 4 | lhex(buf[v + 2 * k + 1]));
            for (uint32_t m = first; m < p->nmods; m++) {
                if (p->mods[m].idlen != idlen) continue;
                uint32_t k = 0;
                while (k < idlen && p->mods[m].id[k] == id[k]) k++;
                if (k == idlen) FAIL("module listed twice");
            }
            if (p->nmods - first >= TL_PLAN_MAX_MODULES) FAIL("more than 4096 modules");
            if (p->nmods >= p->mods_cap) FAIL("too many modules in all plans read");
            cur = &p->mods[p->nmods++];
            for (uint32_t k = 0; k < idlen; k++) cur->id[k] = id[k];
            cur->idlen = idlen;
            cur->n = 0;
            cur->sites = p->sink ? p->sink + used : 0;
            if (++p->gen == 0) p->gen = 1; /* tags of 0 never match */
            continue;
        }
        /* a site line: exactly two words */
        if (!cur) FAIL("site before any 'module' line");
        uint64_t x = v;
        while (x < e && !is_blank(buf[x])) x++;
        if (v == e || x != e) FAIL("expected 'module ID PATH' or 'OFFSET SOURCE'");
        if (w - s > TL_PLAN_MAX_OFFSET_DIGITS) FAIL("bad offset (1 to 13 lowercase hex digits, no 0x)");
        uint64_t off = 0;
        for (uint64_t k = s; k < w; k++) {
            int h = lhex(buf[k]);
            if (h < 0) FAIL("bad offset (1 to 13 lowercase hex digits, no 0x)");
            off = off << 4 | (uint64_t)h;
        }
        uint64_t source;
        if (word_is(buf + v, buf + e, "confirmed"))
            source = TL_PLAN_CONFIRMED;
        else if (word_is(buf + v, buf + e, "learned"))
            source = TL_PLAN_LEARNED;
        else if (word_is(buf + v, buf + e, "learned-unverified"))
            source = TL_PLAN_UNVERIFIED;
        else
            FAIL("site source must be 'confirmed', 'learned' or 'learned-unverified'");
        if (seen_before(p, off)) FAIL("offset listed twice in one module");
        if (cur->n >= TL_PLAN_MAX_SITES) FAIL("more than 65536 sites in one module");
        if (p->sink) {
            if (used >= p->sink_cap) FAIL("internal: site count changed");
            p->sink[used] = off << TL_PLAN_SOURCE_BITS | source;
        }
        used++;
        cur->n++;
    }
    if (!header) {
        line++;
        FAIL("empty (expected 'trapline-plan 1')");
    }
#undef FAIL
    p->nsites = used;
    return 0;
}
