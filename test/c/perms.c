/* Page protections after rewriting are exactly what they were, and nothing is left
 * writable+executable. Also an execute-only page holding a syscall: it runs, is
 * rewritten (second run takes the fast path) and stays execute-only.
 * Prints "ok" or the first difference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>

struct range { uint64_t lo, hi; char perm[5]; };
static int read_maps(struct range *r, int max)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perm[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) != 3) continue;
        r[n].lo = lo; r[n].hi = hi; memcpy(r[n].perm, perm, 5);
        n++;
    }
    fclose(f);
    return n;
}

static const char *perm_at(struct range *r, int n, uint64_t a)
{
    for (int i = 0; i < n; i++) if (a >= r[i].lo && a < r[i].hi) return r[i].perm;
    return "none";
}

static struct range A[4096], B[4096];

int main(void)
{
    /* an execute-only page with: mov $110,%eax; syscall; ret */
    unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static const unsigned char code[] = { 0xb8, 0x6e, 0, 0, 0, 0x0f, 0x05, 0xc3 };
    memcpy(p + 64, code, sizeof code);
    mprotect(p, 4096, PROT_EXEC);
    long (*fn)(void) = (long (*)(void))(p + 64);
    int na = read_maps(A, 4096);
    long r1 = fn(), r2 = fn(), r3 = fn();
    if (r1 != getppid() || r2 != r1 || r3 != r1) { printf("execute-only site returned %ld %ld %ld\n", r1, r2, r3); return 1; }
    for (int i = 0; i < 100; i++) { getppid(); getpid(); }
    FILE *f = fopen("/proc/self/status", "r"); fclose(f);
    int nb = read_maps(B, 4096);
    for (int i = 0; i < nb; i++) {
        if (B[i].perm[1] == 'w' && B[i].perm[2] == 'x') { printf("writable+executable mapping %lx-%lx\n", (unsigned long)B[i].lo, (unsigned long)B[i].hi); return 1; }
    }
    for (int i = 0; i < na; i++) {
        for (uint64_t a = A[i].lo; a < A[i].hi; a += 4096) {
            const char *pb = perm_at(B, nb, a);
            if (strcmp(pb, A[i].perm) != 0 && strcmp(pb, "none") != 0) {
                printf("page %lx was %s, now %s\n", (unsigned long)a, A[i].perm, pb); return 1;
            }
        }
    }
    if (strcmp(perm_at(B, nb, (uint64_t)p), "--xp") != 0) { printf("execute-only page is now %s\n", perm_at(B, nb, (uint64_t)p)); return 1; }
    printf("ok\n");
    return 0;
}
