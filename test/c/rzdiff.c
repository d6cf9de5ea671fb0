/* The red-zone rule (lazy/redzone.c) against its previous implementation
 * (test/c/rzdiff_old.h): the same verdict, kind and at, for every input.
 *
 *   rzdiff files PATH...       every `0f 05` in the executable PT_LOAD segments of each
 *                              ELF file (both as the scanner sees it, the whole
 *                              page-rounded segment, and as the process sees it, the
 *                              window alone); non-ELF paths are skipped
 *   rzdiff random N SEED       N buffers of random bytes and instruction fragments that
 *                              matter to the rule, with planted `0f 05`s, every site
 *   rzdiff mutate PATH N SEED  N windows of PATH's code around its sites (or any 0f 05
 *                              planted in it), a few bytes changed or fragments written
 *   rzdiff bench PATH ROUNDS   ns per check on PATH's sites, old and new, per round
 *
 * Prints "cases N mismatches M" (and the first mismatches); exits 1 if any. */
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* both compiled as libtrapline.so compiles lazy/redzone.c (CMakeLists.txt), for the
 * bench's figures */
#pragma GCC push_options
#pragma GCC target("general-regs-only")
#include "test/c/rzdiff_old.h"
#include "lazy/redzone.c"
#pragma GCC pop_options

static unsigned long cases, mismatches, kinds[8];

static void check(const uint8_t *code, size_t len, size_t site, const char *what, size_t where)
{
    struct tl_rz_result a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    int ka = rzold_tl_redzone_check(code, len, site, &a);
    int kb = tl_redzone_check(code, len, site, &b);
    cases++;
    kinds[kb & 7]++;
    if (ka != kb || a.kind != b.kind || a.at != b.at) {
        if (mismatches++ < 20) {
            printf("MISMATCH %s @%zu (len %zu site %zu): old %d at %u, new %d at %u\n", what, where, len, site, a.kind, a.at, b.kind,
                b.at);
            size_t lo = site > TL_RZ_BEFORE ? site - TL_RZ_BEFORE : 0, hi = len - site > TL_RZ_AFTER ? site + TL_RZ_AFTER : len;
            printf("  window from %zu:", lo);
            for (size_t i = lo; i < hi; i++) printf(" %02x", code[i]);
            printf("\n");
        }
    }
}

/* the executable segments of an ELF file: calls fn(code, len) for each */
static int segments(const char *path, void (*fn)(const uint8_t *, size_t, const char *, void *), void *arg)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        return 0;
    }
    size_t size = (size_t)st.st_size;
    const uint8_t *f = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f == MAP_FAILED) return 0;
    const Elf64_Ehdr *e = (const Elf64_Ehdr *)f;
    int n = 0;
    if (!memcmp(e->e_ident, ELFMAG, SELFMAG) && e->e_ident[EI_CLASS] == ELFCLASS64 && e->e_machine == EM_X86_64 &&
        e->e_phoff < size && e->e_phnum * sizeof(Elf64_Phdr) <= size - e->e_phoff) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(f + e->e_phoff);
        for (int i = 0; i < e->e_phnum; i++) {
            if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X)) continue;
            uint64_t off = ph[i].p_offset & ~4095ull, end = ph[i].p_offset + ph[i].p_filesz;
            if (off >= size) continue;
            if (end > size) end = size;
            fn(f + off, end - off, path, arg);
            n++;
        }
    }
    munmap((void *)f, size);
    return n;
}

static void diff_segment(const uint8_t *code, size_t len, const char *path, void *arg)
{
    (void)arg;
    for (size_t i = 0; i + 1 < len; i++) {
        if (code[i] != 0x0f || code[i + 1] != 0x05) continue;
        check(code, len, i, path, i); /* the scanner: the whole segment */
        size_t lo = i > TL_RZ_BEFORE ? i - TL_RZ_BEFORE : 0, hi = len - i > TL_RZ_AFTER ? i + TL_RZ_AFTER : len;
        check(code + lo, hi - lo, i - lo, path, i); /* the process: the window alone */
    }
}

/* xorshift64* */
static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

/* fragments the rule tracks: copies of %rsp, moves of %rsp, uses, branches, ends */
static const char *const frags[] = {
    "4889e3", "4889e5", "4889e7", "4889e6", "4c89e2", "4989e2", "4889e0", "488d7c24f0", "488d7424c0", "488d5424f8", "488d4c2480",
    "488d442410", "4c8d4424e8", "4c8d4c24d0", "4c8d5424a0", "488d6c2408", "488d3c24", "488d7d80", "488d75f8", "488d65f0",
    "4883ec08", "4883c408", "4881ec00010000", "4881c400010000", "4883eb10", "4883c320", "4883e4f0", "4883e7f0", "4883ef40",
    "53", "5b", "55", "5d", "50", "58", "415c", "4154", "6a00", "9c", "9d", "c9", "c8100000", "488b4424f8", "488b0424",
    "8b4424fc", "48894424f8", "48897c24f0", "488903", "48893e", "488b03", "488b06", "488b4708", "488b45f0", "48894df8",
    "c64424ff00", "c74424fc01000000", "4c8b4424f0", "f3a4", "f348ab", "f3a6", "aa", "ac", "a5", "4887e3", "4887dc", "4893",
    "4894", "4889c4", "4889dc", "4889ec", "488d6424f8", "488d642408", "480f44dc", "480f45fc", "0f05", "0f05", "0f05", "c3",
    "e800000000", "ffd0", "ffe0", "ff1500000000", "ff35f8ffffff", "ff7424f8", "ffd3", "0f0b", "cc", "f4", "7400", "7502",
    "7404", "7efe", "eb00", "eb02", "ebf0", "0f8400000000", "0f85f0ffffff", "e900000000", "e9f6ffffff", "e302", "31ff", "31db",
    "4831e4", "4829db", "48c7c300000000", "bb00000000", "48bb0000000000000000", "4863dc", "480fb6dc", "0fb7fc", "8f4424f8", "8fc3",
    "c5fa6f4424f0", "c5fa7f4424f0", "62f17c48104424ff", "62f17c4811442401", "0f1f4424f8", "0f184424f8", "660f6f4424f0",
    "66890424", "f20f104424f8", "f30f7e4424f8", "4d89e1", "4d8d442408", "90", "6690", "0f1f00", "4881e4f0ffffff", "4883e400",
    "4c89e7", "4c89e6", "4889e2", "4989e0", "4989e1", "4989e3", "49c7c2ffffffff", "48c7c0ffffffff",
    /* prefixes around the movs and leas that make copies */
    "664889e3", "484889e3", "48664889e3", "3e488d7c24f0", "f2488d742408", "4c89e3", "4c8be4", "498be4", "488bdc",
    "488d1c24", "4a8d1c24", "498d1c24", "488d1c64", "67488d4424f8", "c80000", "66c81000", "4866c8000000",
};

static int hexv(char c) { return c >= '0' && c <= '9' ? c - '0' : c - 'a' + 10; }

static size_t put_frag(uint8_t *p, size_t room, const char *h)
{
    size_t n = strlen(h) / 2;
    if (n > room) n = room;
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(hexv(h[2 * i]) << 4 | hexv(h[2 * i + 1]));
    return n;
}

static void random_case(uint8_t *buf, size_t cap)
{
    size_t len = 2 + rnd() % cap, i = 0;
    unsigned style = (unsigned)(rnd() % 4); /* 0 bytes, 1 fragments, 2 mixed, 3 fragments with few ends */
    while (i < len) {
        unsigned c = (unsigned)(rnd() % 16);
        if (style == 0 || (style == 2 && c < 6)) {
            buf[i++] = (uint8_t)rnd();
        } else {
            const char *h = frags[rnd() % (sizeof frags / sizeof frags[0])];
            if (style == 3 && (h[0] == 'c' && (h[1] == '3' || h[1] == 'c'))) continue;
            i += put_frag(buf + i, len - i, h);
        }
    }
    /* plant sites */
    unsigned planted = 1 + (unsigned)(rnd() % 4);
    for (unsigned k = 0; k < planted; k++) {
        size_t at = rnd() % (len - 1);
        buf[at] = 0x0f;
        buf[at + 1] = 0x05;
    }
    for (size_t s = 0; s + 1 < len; s++)
        if (buf[s] == 0x0f && buf[s + 1] == 0x05) check(buf, len, s, "random", s);
}

/* sites of PATH, then ROUNDS rounds of old and new over all of them */
struct sites {
    uint8_t *code;
    size_t len;
    size_t *at;
    size_t n, cap;
};

static void collect(const uint8_t *code, size_t len, const char *path, void *arg)
{
    (void)path;
    struct sites *s = arg;
    if (s->code) return; /* the first executable segment */
    s->code = malloc(len);
    memcpy(s->code, code, len);
    s->len = len;
    for (size_t i = 0; i + 1 < len; i++) {
        if (code[i] != 0x0f || code[i + 1] != 0x05) continue;
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 256;
            s->at = realloc(s->at, s->cap * sizeof *s->at);
        }
        s->at[s->n++] = i;
    }
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int mutate(const char *path, unsigned long n)
{
    struct sites s = {0};
    segments(path, collect, &s);
    if (s.len < 1024) {
        printf("no code in %s\n", path);
        return 2;
    }
    static uint8_t buf[1024];
    for (unsigned long k = 0; k < n; k++) {
        /* around a real site half the time, anywhere in the code otherwise */
        size_t len = 2 + rnd() % 600, centre = s.n && k % 2 ? s.at[rnd() % s.n] : rnd() % s.len;
        size_t from = centre > len / 2 ? centre - len / 2 : 0;
        if (from + len > s.len) from = s.len - len;
        memcpy(buf, s.code + from, len);
        unsigned edits = (unsigned)(rnd() % 6);
        for (unsigned e = 0; e < edits; e++) {
            size_t at = rnd() % len;
            if (rnd() % 2)
                buf[at] = (uint8_t)rnd();
            else
                put_frag(buf + at, len - at, frags[rnd() % (sizeof frags / sizeof frags[0])]);
        }
        size_t site = rnd() % (len - 1);
        if (!(s.n && k % 2) || rnd() % 4 == 0) {
            buf[site] = 0x0f;
            buf[site + 1] = 0x05;
        }
        for (size_t i = 0; i + 1 < len; i++)
            if (buf[i] == 0x0f && buf[i + 1] == 0x05) check(buf, len, i, "mutate", from + i);
    }
    return 0;
}

static double median_of(double *v, size_t n, double *min, double *max)
{
    qsort(v, n, sizeof(double), cmpd);
    *min = v[0];
    *max = v[n - 1];
    return v[n / 2];
}

/* hot: all sites in a loop, ns per check per round (min/median/max over rounds);
 * cold: each check timed alone after the caches were filled with other data, as a first
 * hit in a running program is (min/median/max over all checks of all rounds) */
static int bench(const char *path, int rounds)
{
    struct sites s = {0};
    segments(path, collect, &s);
    if (!s.n) {
        printf("no sites in %s\n", path);
        return 2;
    }
    size_t evict_len = 8u << 20, m = s.n * (size_t)rounds;
    uint8_t *evict = malloc(evict_len);
    double *hot[2], *cold[2];
    for (int k = 0; k < 2; k++) {
        hot[k] = calloc((size_t)rounds, sizeof(double));
        cold[k] = calloc(m, sizeof(double));
    }
    volatile int sink = 0;
    for (int r = 0; r < rounds; r++) {
        for (int which = 0; which < 2; which++) {
            double t0 = now();
            for (size_t j = 0; j < s.n; j++) {
                size_t i = s.at[j];
                size_t lo = i > TL_RZ_BEFORE ? i - TL_RZ_BEFORE : 0, hi = s.len - i > TL_RZ_AFTER ? i + TL_RZ_AFTER : s.len;
                struct tl_rz_result res;
                sink += which ? tl_redzone_check(s.code + lo, hi - lo, i - lo, &res)
                              : rzold_tl_redzone_check(s.code + lo, hi - lo, i - lo, &res);
            }
            hot[which][r] = (now() - t0) / (double)s.n;
        }
    }
    for (int r = 0; r < rounds; r++) {
        for (size_t j = 0; j < s.n; j++) {
            for (int which = 0; which < 2; which++) {
                size_t i = s.at[j];
                size_t lo = i > TL_RZ_BEFORE ? i - TL_RZ_BEFORE : 0, hi = s.len - i > TL_RZ_AFTER ? i + TL_RZ_AFTER : s.len;
                struct tl_rz_result res;
                memset(evict, (int)(j + r), evict_len);
                double t0 = now();
                sink += which ? tl_redzone_check(s.code + lo, hi - lo, i - lo, &res)
                              : rzold_tl_redzone_check(s.code + lo, hi - lo, i - lo, &res);
                cold[which][(size_t)r * s.n + j] = now() - t0;
            }
        }
    }
    double a, b, c, d;
    printf("%s: %zu sites\n", path, s.n);
    double mo = median_of(hot[0], (size_t)rounds, &a, &b), mn = median_of(hot[1], (size_t)rounds, &c, &d);
    printf("hot  (%d rounds) ns per check min/median/max: old %.0f/%.0f/%.0f new %.0f/%.0f/%.0f\n", rounds, a, mo, b, c, mn, d);
    mo = median_of(cold[0], m, &a, &b);
    mn = median_of(cold[1], m, &c, &d);
    printf("cold (%zu checks) ns per check min/median/max: old %.0f/%.0f/%.0f new %.0f/%.0f/%.0f\n", m, a, mo, b, c, mn, d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "files")) {
        int files = 0;
        for (int i = 2; i < argc; i++) files += segments(argv[i], diff_segment, NULL) > 0;
        printf("files %d ", files);
    } else if (argc == 4 && !strcmp(argv[1], "random")) {
        unsigned long n = strtoul(argv[2], NULL, 10);
        rng = strtoull(argv[3], NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
        static uint8_t buf[1024];
        for (unsigned long k = 0; k < n; k++) random_case(buf, k % 3 ? 420 : sizeof buf);
    } else if (argc == 5 && !strcmp(argv[1], "mutate")) {
        rng = strtoull(argv[4], NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
        int r = mutate(argv[2], strtoul(argv[3], NULL, 10));
        if (r) return r;
    } else if (argc == 4 && !strcmp(argv[1], "bench")) {
        return bench(argv[2], atoi(argv[3]));
    } else {
        fprintf(stderr, "usage: rzdiff files PATH... | random N SEED | mutate PATH N SEED | bench PATH ROUNDS\n");
        return 2;
    }
    printf("cases %lu mismatches %lu kinds", cases, mismatches);
    for (int k = 0; k < 8; k++) printf(" %lu", kinds[k]);
    printf("\n");
    return mismatches ? 1 : 0;
}
