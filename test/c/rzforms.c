/* The red-zone fixtures of rzforms.S, run from three places: the program's own file
 * (no plan, no scan), a copy in anonymous executable memory written at run time (JIT),
 * and a library loaded with dlopen (argv[1], librzlib.so). Each function is called
 * three times (first call traps; later ones take the fast path if the site was
 * rewritten). One line per (place, form): "<place> <form> ok|clobbered <site address>".
 * usage: rzforms LIBRZLIB.so      exit 0 if every form kept its red zone. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define FORMS(X) X(plain) X(before) X(direct) X(copy) X(lea) X(rbp) X(kernel)
#define DECL(f) extern long rz_##f(long); extern char rz_##f##_site[];
FORMS(DECL)
extern char rz_begin[], rz_end[];

static const char *names[] = {
#define NAME(f) #f,
    FORMS(NAME)
};
enum { NFORMS = sizeof names / sizeof names[0] };

static int bad;

static void run(const char *place, long (*fn[NFORMS])(long), char *site[NFORMS])
{
    for (int i = 0; i < NFORMS; i++) {
        int ok = 1;
        for (int k = 0; k < 3; k++) if (fn[i](0x5a5a5a5a12345678 + k) != 0) ok = 0;
        if (!ok) bad = 1;
        printf("%s %s %s %p\n", place, names[i], ok ? "ok" : "clobbered", (void *)site[i]);
    }
}

int main(int argc, char **argv)
{
    long (*fn[NFORMS])(long);
    char *site[NFORMS];
    int i = 0;
#define FILE_FN(f) fn[i] = rz_##f; site[i] = rz_##f##_site; i++;
    FORMS(FILE_FN)

    size_t len = (size_t)(rz_end - rz_begin);
    unsigned char *jit = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (jit == MAP_FAILED || len > 4096) { printf("mmap failed\n"); return 2; }
    memcpy(jit, rz_begin, len);
    /* a site of the file already rewritten (a plan does it before main) reads back as
     * ff d0 (docs/design.md): the JIT writes its own syscall instructions */
    for (int j = 0; j < NFORMS; j++) { jit[site[j] - rz_begin] = 0x0f; jit[site[j] - rz_begin + 1] = 0x05; }
    if (mprotect(jit, 4096, PROT_READ | PROT_EXEC) != 0) { printf("mprotect failed\n"); return 2; }
    long (*jfn[NFORMS])(long);
    char *jsite[NFORMS];
    for (int j = 0; j < NFORMS; j++) {
        jfn[j] = (long (*)(long))(void *)(jit + ((char *)(void *)fn[j] - rz_begin));
        jsite[j] = (char *)jit + (site[j] - rz_begin);
    }
    run("file", fn, site);
    run("jit", jfn, jsite);

    if (argc > 1) {
        void *h = dlopen(argv[1], RTLD_NOW);
        if (!h) { printf("dlopen: %s\n", dlerror()); return 2; }
        long (*dfn[NFORMS])(long);
        char *dsite[NFORMS];
        char sym[64];
        for (int j = 0; j < NFORMS; j++) {
            snprintf(sym, sizeof sym, "rz_%s", names[j]);
            dfn[j] = (long (*)(long))dlsym(h, sym);
            snprintf(sym, sizeof sym, "rz_%s_site", names[j]);
            dsite[j] = dlsym(h, sym);
            if (!dfn[j] || !dsite[j]) { printf("dlsym %s failed\n", sym); return 2; }
        }
        run("dlopen", dfn, dsite);
    }
    return bad;
}
