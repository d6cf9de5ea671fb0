/* Mappings that change under trapline's map of the address space (core/vmmap.c). Each
 * kind first runs a site in a private code page (so that the map is built and the page's
 * entry exists), then changes the memory at the same address, then runs a new site
 * there, and checks what holds natively: a shared mapping's bytes are never changed, a
 * page keeps exactly the protection the program gave it. usage: vmmap KIND
 *   flip          private code page turned rwx (a JIT): after a site runs it must still be
 *                 rwx (written to, and shown so in /proc/self/maps)
 *   xonly         the same page turned execute-only: stays --x
 *   fixed-shared  mmap(MAP_FIXED | MAP_SHARED) of a memfd over the private page
 *   unmap-shared  munmap, then a MAP_SHARED memfd mapped at the same address
 *   mremap-shared a MAP_SHARED memfd moved by mremap(MREMAP_FIXED) over the private page
 *   heap          a code page in memory grown by brk (never seen as a mapping call)
 *   hook-shared   the memfd mapped over the page by the hook's own mmap (test/hooks/vmhook.c,
 *                 asked through getppid(MAGIC, addr, fd)); natively the program maps it
 * Prints "ok" or "bad: why". */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static const unsigned char stub[] = { 0xb8, 0x6e, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3 };   /* getppid */
#define MAGIC 0x766d6d6170ul

static int bad(const char *why) { printf("bad: %s\n", why); return 1; }

static int call(const unsigned char *at)
{
    long (*f)(void) = (long (*)(void))(const void *)at;
    long want = getppid();
    int ok = 1;
    for (int i = 0; i < 3; i++) ok &= f() == want;
    return ok;
}

/* the permissions /proc/self/maps shows for addr ("rwxp" ...), or "" */
static const char *perms(const void *addr)
{
    static char out[8];
    char line[512];
    out[0] = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char p[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, p) == 3 && (unsigned long)addr >= lo && (unsigned long)addr < hi) {
            strcpy(out, p);
            break;
        }
    }
    if (f) fclose(f);
    return out;
}

/* a private code page at p, with a site at p that has run */
static unsigned char *code_page(void)
{
    unsigned char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 0;
    memcpy(p, stub, sizeof stub);
    if (mprotect(p, 8192, PROT_READ | PROT_EXEC) || !call(p)) return 0;
    return p;
}

/* a memfd with the stub at 64, and a read-write view of it */
static int shared_code(unsigned char **view)
{
    int fd = memfd_create("vmmap", 0);
    if (fd < 0 || ftruncate(fd, 4096)) return -1;
    *view = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (*view == MAP_FAILED) return -1;
    memcpy(*view + 64, stub, sizeof stub);
    return fd;
}

static int shared_check(unsigned char *at, unsigned char *view)
{
    if (!call(at + 64)) return bad("the call in shared memory returned a wrong value");
    if (memcmp(view + 64, stub, sizeof stub)) return bad("the shared memory was written (a site rewritten there)");
    puts("ok");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: vmmap KIND\n"); return 2; }
    const char *k = argv[1];
    unsigned char *p = code_page(), *view;
    if (!p) return bad("cannot set up the private code page");
    if (!strcmp(k, "flip") || !strcmp(k, "xonly")) {
        int x = !strcmp(k, "xonly");
        if (mprotect(p, 4096, PROT_READ | PROT_WRITE)) return bad("mprotect rw");
        memcpy(p + 64, stub, sizeof stub);
        if (mprotect(p, 4096, x ? PROT_EXEC : PROT_READ | PROT_WRITE | PROT_EXEC)) return bad("mprotect");
        if (!call(p + 64)) return bad("the call returned a wrong value");
        const char *want = x ? "--xp" : "rwxp";
        if (strcmp(perms(p), want)) { printf("bad: the page is %s, not %s\n", perms(p), want); return 1; }
        if (!x) p[200] = 1;                 /* still writable */
        puts("ok");
        return 0;
    }
    if (!strcmp(k, "fixed-shared") || !strcmp(k, "unmap-shared") || !strcmp(k, "hook-shared")) {
        int fd = shared_code(&view);
        if (fd < 0) return bad("memfd");
        if (!strcmp(k, "unmap-shared")) {
            if (munmap(p, 8192)) return bad("munmap");
            if (mmap(p, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0) != p) return bad("mmap at the same address");
        } else if (!strcmp(k, "fixed-shared")) {
            if (mmap(p, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0) != p) return bad("mmap MAP_FIXED");
        } else {
            /* the hook maps it itself; natively (no hook) the program does */
            if (syscall(SYS_getppid, MAGIC, p, fd) != MAGIC &&
                mmap(p, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0) != p) return bad("mmap MAP_FIXED");
        }
        return shared_check(p, view);
    }
    if (!strcmp(k, "mremap-shared")) {
        int fd = shared_code(&view);
        if (fd < 0) return bad("memfd");
        unsigned char *s = mmap(0, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        if (s == MAP_FAILED) return bad("mmap shared");
        if (mremap(s, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, p) != p) return bad("mremap");
        return shared_check(p, view);
    }
    if (!strcmp(k, "heap")) {
        char *b = sbrk(0);
        unsigned char *h = (unsigned char *)(((unsigned long)b + 4095) & ~4095ul);
        if (sbrk((h - (unsigned char *)b) + 3 * 4096) == (void *)-1) return bad("sbrk");
        memcpy(h + 4096, stub, sizeof stub);
        if (mprotect(h + 4096, 4096, PROT_READ | PROT_WRITE | PROT_EXEC)) return bad("mprotect heap");
        if (!call(h + 4096)) return bad("the call returned a wrong value");
        if (strcmp(perms(h + 4096), "rwxp")) { printf("bad: the heap page is %s, not rwxp\n", perms(h + 4096)); return 1; }
        h[4096 + 200] = 1;
        puts("ok");
        return 0;
    }
    fprintf(stderr, "vmmap: unknown kind %s\n", k);
    return 2;
}
