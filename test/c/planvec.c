/* Runs the shared plan-grammar vectors (test/plan-vectors.txt) through the C parser
 * (lazy/plan_parse.c). usage: planvec VECTORS-FILE
 * Prints one line per case ("ok NAME" / "FAIL NAME: ...") and exits 0 if all agree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lazy/plan_parse.c"

static char *text;
static size_t len, cap;

static void put(char c)
{
    if (len == cap) { cap = cap ? 2 * cap : 1 << 16; text = realloc(text, cap); if (!text) exit(3); }
    text[len++] = c;
}

static int hexv(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; }

static void unescape(const char *s)
{
    while (*s) {
        if (*s != '\\') { put(*s++); continue; }
        s++;
        switch (*s) {
        case '\\': put('\\'); s++; break;
        case 't': put('\t'); s++; break;
        case 'r': put('\r'); s++; break;
        case '0': put('\0'); s++; break;
        case 'x': put((char)(hexv(s[1]) << 4 | hexv(s[2]))); s += 3; break;
        case '*': {
            char *e;
            long n = strtol(s + 1, &e, 10);
            /* the repeated character: one raw byte, or one escape */
            const char *c = e + 1;
            char ch = *c;
            size_t used = 1;
            if (*c == '\\') {
                used = 2;
                switch (c[1]) {
                case 't': ch = '\t'; break;
                case 'r': ch = '\r'; break;
                case '0': ch = 0; break;
                case 'x': ch = (char)(hexv(c[2]) << 4 | hexv(c[3])); used = 4; break;
                default: ch = c[1]; break;
                }
            }
            for (long i = 0; i < n; i++) put(ch);
            s = c + used;
            break;
        }
        default: fprintf(stderr, "bad escape \\%c\n", *s); exit(3);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: planvec VECTORS-FILE\n"); return 2; }
    FILE *f = fopen(argv[1], "r");
    if (!f) { perror(argv[1]); return 2; }
    static struct tl_plan_mod mods[8192];
    uint64_t *seen = calloc(1u << TL_PLAN_SEEN_BITS, 8);
    uint32_t *tag = calloc(1u << TL_PLAN_SEEN_BITS, 4);
    char line[65536], name[65536] = "";
    int failures = 0, cases = 0;
    uint32_t gen = 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n') line[--n] = 0;
        if (!strncmp(line, "case ", 5)) { snprintf(name, sizeof name, "%s", line + 5); len = 0; continue; }
        if (!strncmp(line, ">> ", 3)) { unescape(line + 3); continue; }
        if (!strncmp(line, "> ", 2)) { unescape(line + 2); put('\n'); continue; }
        if (!strcmp(line, ">")) { put('\n'); continue; }
        if (!strncmp(line, "modules ", 8)) {
            long k = atol(line + 8);
            char b[64];
            for (long i = 0; i < k; i++) { snprintf(b, sizeof b, "module %08lx m\n", i); for (char *q = b; *q; q++) put(*q); }
            continue;
        }
        if (!strncmp(line, "sites ", 6)) {
            long k = atol(line + 6);
            char b[64];
            for (long i = 0; i < k; i++) { snprintf(b, sizeof b, "%lx learned\n", i); for (char *q = b; *q; q++) put(*q); }
            continue;
        }
        if (strncmp(line, "expect ", 7)) continue;
        cases++;
        /* the library's two passes: count, then fill */
        struct tl_plan_parser p = { .mods = mods, .mods_cap = 8192, .seen = seen, .seen_tag = tag, .gen = gen };
        int r = tl_plan_parse(&p, text ? text : "", len);
        uint64_t nsites = p.nsites;
        if (r == 0) {
            uint64_t *sink = malloc((nsites ? nsites : 1) * 8);
            struct tl_plan_parser q = { .mods = mods, .mods_cap = 8192, .sink = sink, .sink_cap = nsites, .seen = seen, .seen_tag = tag, .gen = p.gen };
            if (tl_plan_parse(&q, text ? text : "", len) || q.nmods != p.nmods || q.nsites != nsites) {
                printf("FAIL %s: the filling pass disagrees with the counting pass\n", name);
                failures++;
            }
            p.gen = q.gen;
            free(sink);
        }
        gen = p.gen;
        unsigned em, es, el;
        if (sscanf(line, "expect ok %u %u", &em, &es) == 2) {
            if (r != 0) { printf("FAIL %s: refused at line %u (%s), expected ok\n", name, p.line, p.what); failures++; }
            else if (p.nmods != em || nsites != es) { printf("FAIL %s: %u modules %llu sites, expected %u %u\n", name, p.nmods, (unsigned long long)nsites, em, es); failures++; }
            else printf("ok %s\n", name);
        } else if (sscanf(line, "expect error %u", &el) == 1) {
            if (r == 0) { printf("FAIL %s: accepted, expected an error at line %u\n", name, el); failures++; }
            else if (p.line != el) { printf("FAIL %s: error at line %u (%s), expected line %u\n", name, p.line, p.what, el); failures++; }
            else printf("ok %s\n", name);
        } else {
            printf("FAIL %s: bad expect line\n", name);
            failures++;
        }
    }
    printf("%d cases, %d failures\n", cases, failures);
    return failures ? 1 : 0;
}
